import Contacts
import Foundation
import PhoneNumbers
import StoreContract

/// The language of the screen-pop page, chosen from `Accept-Language`.
enum PopupLanguage: Sendable {
    case czech, english

    /// The first of Czech (or Slovak) and English in the header's order of preference; English
    /// when it names neither.
    static func preferred(_ header: String?) -> PopupLanguage {
        var best: (quality: Double, language: PopupLanguage)?
        for item in (header ?? "").split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let tag = parts.first else { continue }
            let quality = parts.dropFirst().first(where: { $0.hasPrefix("q=") }).flatMap { Double($0.dropFirst(2)) } ?? 1
            let language: PopupLanguage? =
                tag.hasPrefix("cs") || tag.hasPrefix("sk") ? .czech : tag.hasPrefix("en") ? .english : nil
            if let language, quality > 0, quality > (best?.quality ?? 0) { best = (quality, language) }
        }
        return best?.language ?? .english
    }

    var code: String { self == .czech ? "cs" : "en" }

    func text(_ key: PopupText) -> String {
        switch (key, self) {
        case (.calling, .czech): "Volá"
        case (.calling, .english): "Calling"
        case (.unknownCaller, .czech): "Neznámý volající"
        case (.unknownCaller, .english): "Unknown caller"
        case (.noContact, .czech): "Toto číslo nemá žádný kontakt."
        case (.noContact, .english): "No contact has this number."
        case (.phone, .czech): "Telefon"
        case (.phone, .english): "Phone"
        case (.email, .czech): "E-mail"
        case (.email, .english): "Email"
        case (.agents, .czech): "Agenti"
        case (.agents, .english): "Agents"
        case (.suffixMatch, .czech): "Nalezeno podle konce čísla"
        case (.suffixMatch, .english): "Matched on the number's last digits"
        case (.more, .czech): "Další kontakty s tímto číslem"
        case (.more, .english): "Other contacts with this number"
        }
    }

    /// The default name of a field the organization has not named.
    func fieldName(_ field: ContactField) -> String {
        guard let number = ContactField.customFields.firstIndex(of: field) else { return field.rawValue }
        return (self == .czech ? "Vlastní pole " : "Custom field ") + String(number + 1)
    }
}

enum PopupText {
    case calling, unknownCaller, noContact, phone, email, agents, suffixMatch, more
}

extension ContactField {
    static let customFields: [ContactField] = [.customField1, .customField2, .customField3, .customField4, .customField5, .customField6]

    /// The `…Uri` field that makes this field a link (`customField1` → `customField1Uri`).
    var linkField: ContactField? {
        switch self {
        case .customField1: .customField1Uri
        case .customField2: .customField2Uri
        case .customField3: .customField3Uri
        case .customField4: .customField4Uri
        case .customField5: .customField5Uri
        case .customField6: .customField6Uri
        default: nil
        }
    }
}

/// The screen-pop page: who is calling, their organization, phone numbers in the
/// organization's national format, email, the custom fields under the organization's labels, the
/// agent tags — every `…Uri` value a link that opens in a new window. One self-contained HTML page:
/// no scripts, fonts or external resources, inline CSS allowed by its hash in a strict
/// Content-Security-Policy, every value HTML-escaped, only `http`/`https` links.
enum PopupPage {
    static let style = """
        body{font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f3f5f7;color:#1d2329}\
        main{max-width:34rem;margin:0 auto;padding:1rem}\
        .calling{margin:0 0 .6rem;color:#56606b;font-size:.9rem;letter-spacing:.02em}\
        .calling strong{color:#1d2329;font-size:1.05rem}\
        article{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:1rem 1.2rem;margin:0 0 .8rem}\
        h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:0 0 .2rem}\
        .org{margin:0 0 .7rem;color:#3b4652;font-weight:600}\
        a{color:#0b5cad}table{border-collapse:collapse;width:100%}\
        th{text-align:left;font-weight:500;color:#56606b;padding:.25rem .8rem .25rem 0;vertical-align:top;width:40%}\
        td{padding:.25rem 0;word-break:break-word}\
        .tags span{display:inline-block;background:#e4effa;color:#0b4a8b;border-radius:999px;padding:.05rem .6rem;margin:0 .3rem .2rem 0;font-size:.85rem}\
        .note{color:#8a5a00;font-size:.85rem;margin:.4rem 0 0}.more{color:#56606b;font-size:.9rem;margin:1rem 0 .4rem}
        """

    /// `'sha256-…'` of `style`, for the Content-Security-Policy.
    static let styleSource = Crypto.contentSecuritySource(style)

    static var contentSecurityPolicy: String {
        "default-src 'none'; style-src \(styleSource); base-uri 'none'; form-action 'none'"
    }

    /// A contact as the page shows it.
    struct Card {
        let contact: Contact
        /// `phone1`, `phone2` formatted for the organization.
        let phones: [String]
    }

    static func render(
        number: String, formattedNumber: String, cards: [Card], suffixMatch: Bool, labels: [ContactField: String],
        language: PopupLanguage
    ) -> String {
        let title = cards.first.map { $0.contact.displayName } ?? language.text(.unknownCaller)
        var html = """
            <!doctype html><html lang="\(language.code)"><head><meta charset="utf-8">\
            <meta name="viewport" content="width=device-width,initial-scale=1">\
            <title>\(escape(title)) · \(escape(formattedNumber))</title><style>\(style)</style></head><body><main>
            <p class="calling">\(language.text(.calling)) <strong>\(escape(formattedNumber))</strong></p>

            """
        guard !cards.isEmpty else {
            html += "<article><h1>\(escape(language.text(.unknownCaller)))</h1><p>\(escape(language.text(.noContact)))</p></article>\n"
            return html + "</main></body></html>\n"
        }
        for (offset, card) in cards.enumerated() {
            if offset == 1 { html += "<p class=\"more\">\(escape(language.text(.more)))</p>\n" }
            html += article(card, heading: offset == 0 ? "h1" : "h2", labels: labels, language: language)
            if offset == 0, suffixMatch { html += "<p class=\"note\">\(escape(language.text(.suffixMatch)))</p>\n" }
        }
        return html + "</main></body></html>\n"
    }

    private static func article(_ card: Card, heading: String, labels: [ContactField: String], language: PopupLanguage) -> String {
        let contact = card.contact
        var html = "<article>\n<\(heading)>\(linked(contact.displayName, contact[.nameUri]))</\(heading)>\n"
        if !contact[.organization].isEmpty || !contact[.organizationUri].isEmpty {
            let name = contact[.organization].isEmpty ? contact[.organizationUri] : contact[.organization]
            html += "<p class=\"org\">\(linked(name, contact[.organizationUri]))</p>\n"
        }
        var rows: [(String, String)] = card.phones.map { (labels[.phone1] ?? language.text(.phone), escape($0)) }
        if !contact[.email].isEmpty {
            rows.append((labels[.email] ?? language.text(.email), "<a href=\"mailto:\(escape(mailto(contact[.email])))\">\(escape(contact[.email]))</a>"))
        }
        for field in ContactField.customFields {
            let value = contact[field]
            let link = field.linkField.map { contact[$0] } ?? ""
            guard !value.isEmpty || !link.isEmpty else { continue }
            rows.append((labels[field] ?? language.fieldName(field), linked(value.isEmpty ? link : value, link)))
        }
        let agents = [contact[.agent1], contact[.agent2]].filter { !$0.isEmpty }
        if !agents.isEmpty {
            rows.append((labels[.agent1] ?? language.text(.agents),
                         "<span class=\"tags\">" + agents.map { "<span>\(escape($0))</span>" }.joined() + "</span>"))
        }
        if !rows.isEmpty {
            html += "<table>\n"
            for (label, value) in rows { html += "<tr><th>\(escape(label))</th><td>\(value)</td></tr>\n" }
            html += "</table>\n"
        }
        return html + "</article>\n"
    }

    /// `text`, as a link to `uri` (new window, no referrer) when `uri` is an http(s) URI.
    static func linked(_ text: String, _ uri: String) -> String {
        let lowered = uri.lowercased()
        guard lowered.hasPrefix("https://") || lowered.hasPrefix("http://") else { return escape(text) }
        return "<a href=\"\(escape(uri))\" target=\"_blank\" rel=\"noopener noreferrer\">\(escape(text))</a>"
    }

    /// An address for `mailto:`: everything but letters, digits and `.-_+@` percent-encoded, so a
    /// `?` or `#` in the local part cannot add headers.
    static func mailto(_ address: String) -> String {
        var result = ""
        for byte in address.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "@"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }

    /// HTML-escapes text for element content and quoted attributes.
    static func escape(_ text: String) -> String { MarkupText.escaped(text) }
}

/// Text for HTML and XML element content and quoted attributes: `&`, `<`, `>`, `"` and `'` as
/// character references, and the characters XML 1.0 forbids (C0 controls but tab and line breaks,
/// U+FFFE, U+FFFF) dropped. The popup page and the phonebooks both use it.
enum MarkupText {
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: continue
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import LookupIndex
import NIOCore
import PhoneNumbers
import StoreContract

/// What phone systems read without parsing JSON: the caller's name as plain text
/// (`GET /v3/contacts/name/{phoneNumber}` or `?number=`), `X-Caller-*` headers on the lookup, name
/// and route answers (Kamailio's `http_async_client`), and `?format=kv` (`name=…&agents=…` for
/// Asterisk's `HASH()`).
///
/// FreeSWITCH `mod_cidlookup`, Asterisk `CURL()` and FreePBX show the whole body as the caller's
/// name whatever the status, so the name route's body is the name or nothing: on no match and on
/// every error it is empty, and only the status says why.
///
/// The best match is one rule everywhere: the lookup's matches in order — exact matches before a
/// suffix match, then ascending contact id (the contact created first).
struct CallerAnswer {
    let contact: Contact
    let match: MatchKind
    /// The popup link of the caller (`PopupLinks`), when there is one.
    var url: String?

    /// The best match of a lookup, if any.
    /// The agent tags as a phone system may use them (`PhoneSystemText`): one line each, nothing a
    /// dial plan would expand; a tag with nothing left is left out.
    let agents: [String]

    /// The contact's name as phone systems show it (`Contact.displayName`).
    let displayName: String

    /// The fields an answer shows (the others are not read from the index).
    static let fields: [ContactField] = [.firstName, .lastName, .organization, .agent1, .agent2]

    init?(_ result: LookupResult) {
        guard let best = result.snapshot.first(result.matches) else { return nil }
        contact = result.snapshot.contact(best, fields: Self.fields)
        displayName = contact.displayName
        match = result.match
        agents = [contact[.agent1], contact[.agent2]].map { PhoneSystemText.render($0, maxLength: 200) }.filter { !$0.isEmpty }
    }


    /// `X-Caller-Name`, `-Organization`, `-Agents`, `-Match`, `-Url`: plain text, without control
    /// characters, 200 characters at most (the link is ASCII: a percent-encoded number and a token).
    var headers: HTTPFields {
        var fields = HTTPFields()
        fields.reserveCapacity(5)
        fields[Self.name] = PhoneSystemText.render(displayName, maxLength: 200)
        fields[Self.organization] = PhoneSystemText.render(contact[.organization], maxLength: 200)
        fields[Self.agents] = PhoneSystemText.render(agents.joined(separator: ","), maxLength: 200)
        fields[Self.match] = match.rawValue
        if let url { fields[Self.url] = url }
        return fields
    }

    static let name = HTTPField.Name("X-Caller-Name")!
    static let organization = HTTPField.Name("X-Caller-Organization")!
    static let agents = HTTPField.Name("X-Caller-Agents")!
    static let match = HTTPField.Name("X-Caller-Match")!
    static let url = HTTPField.Name("X-Caller-Url")!

    /// `name=…&organization=…&agents=22%2C100&match=exact&url=…`, form-encoded.
    static func keyValues(_ answer: CallerAnswer?) -> String {
        let pairs: [(String, String)] = [
            ("name", answer.map { PhoneSystemText.render($0.displayName, maxLength: 200) } ?? ""),
            ("organization", answer.map { PhoneSystemText.render($0.contact[.organization], maxLength: 200) } ?? ""),
            ("agents", answer?.agents.joined(separator: ",") ?? ""),
            ("match", answer?.match.rawValue ?? MatchKind.none.rawValue),
            ("url", answer?.url ?? ""),
        ]
        return pairs.map { "\($0.0)=\(PercentEncoding.encoded($0.1))" }.joined(separator: "&")
    }
}

/// The one rule for every value we send to a phone system — names, organizations and agent tags,
/// in the name route, the route answer, `?format=kv`, the `X-Caller-*` headers and the phonebooks:
/// one line, no control characters, no `${` (which PBX dial plans would expand), at most
/// `maxLength` characters, and with `ascii` the diacritics folded and any other non-ASCII character
/// dropped. A PBX pastes these values into dial plans and SIP headers: a line break would end the
/// line it is on, `${…}` would run.
enum PhoneSystemText {
    static func render(_ name: String, maxLength: Int, ascii: Bool = false) -> String {
        var text = name
        if ascii {
            text = text.folding(options: [.diacriticInsensitive, .widthInsensitive], locale: Locale(identifier: "en_US_POSIX"))
            text = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.isASCII }))
        }
        // Built as UTF-8 bytes; `maxLength` counts characters, so the text is cut (by characters)
        // only when it has more scalars than that.
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        var scalars = 0
        var space = false
        for scalar in text.unicodeScalars {
            if isBlank(scalar) {
                space = !result.isEmpty
                continue
            }
            if space {
                result.append(UInt8(ascii: " "))
                scalars += 1
            }
            space = false
            // `${…}` would be expanded by Asterisk and FreeSWITCH: every `$` before it goes.
            if scalar == "{" {
                while result.last == UInt8(ascii: "$") {
                    result.removeLast()
                    scalars -= 1
                }
            }
            if scalar.isASCII {
                result.append(UInt8(truncatingIfNeeded: scalar.value))
            } else {
                UTF8.encode(scalar) { result.append($0) }
            }
            scalars += 1
        }
        let rendered = String(decoding: result, as: UTF8.self)
        return scalars <= maxLength ? rendered : String(rendered.prefix(maxLength))
    }

    /// Whitespace, a control character or an invisible format character (a soft hyphen, a
    /// direction mark). ASCII and the letters of Latin, Greek and Cyrillic scripts are answered
    /// without the Unicode property tables, which cost more than the rest of a lookup.
    private static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x21..<0x7F: return false
        case 0..<0x21, 0x7F..<0xA1, 0xAD: return true
        case 0xA1..<0x600: return false
        default: return scalar.properties.isWhitespace || scalar.properties.generalCategory == .format
        }
    }
}

extension LookupHandlers {
    /// `GET /v3/contacts/name/{phoneNumber}` and `GET /v3/contacts/name?number=`: the best match's
    /// name as `text/plain` (`?maxlen=` 1–255, default 60; `?ascii=1`; `?fallback=number`;
    /// `?format=kv`), or an empty body with the status that says why.
    @Sendable func name(_ request: Request, context: CallerRequestContext) async throws -> Response {
        // Errors thrown here answer with an empty body too (`ErrorAnswers`, by the path).
        let query = Query(context)
        let maxLength = Int(try query.integer("maxlen", in: 1...255) ?? 60)
        let ascii = try CallerNameAnswers.flag(query.string("ascii"))
        let keyValues = try Self.keyValues(context)
        let fallback = try query.string("fallback")
        guard fallback == nil || fallback == "number" else { return CallerNameAnswers.empty(.badRequest) }
        let result = try measuredLookUp(request, context: context)
        let answer = try await answer(result, request: request, context: context)
        if keyValues {
            var response = HTTPAnswer.text(answer == nil ? .notFound : .ok, CallerAnswer.keyValues(answer))
            if let answer { response.headers.append(contentsOf: answer.headers) }
            return response
        }
        guard let answer else {
            let shown = fallback != nil ? result.normalized.flatMap { CallerNameAnswers.validator.format($0, as: .international) } ?? "" : ""
            return HTTPAnswer.text(.notFound, PhoneSystemText.render(shown, maxLength: maxLength, ascii: ascii))
        }
        var response = HTTPAnswer.text(.ok, PhoneSystemText.render(answer.displayName, maxLength: maxLength, ascii: ascii))
        response.headers.append(contentsOf: answer.headers)
        return response
    }
}

/// Answers of the name route and its errors: `text/plain`, and empty unless it is a name.
enum CallerNameAnswers {
    /// The path prefix of the routes whose error answers have no body.
    static let pathPrefix = "/v3/contacts/name"
    static let validator = PhoneNumberValidator()

    static func empty(_ status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var response = HTTPAnswer.text(status, "")
        for field in headers where field.name == .retryAfter || field.name == .wwwAuthenticate || field.name == .allow {
            response.headers[field.name] = field.value
        }
        return response
    }

    /// `1`, `true` or `yes` (and `0`, `false`, `no`); anything else is a 400.
    static func flag(_ text: String?) throws(InputError) -> Bool {
        switch text?.lowercased() {
        case nil, "0", "false", "no": false
        case "1", "true", "yes": true
        default: throw InputError("A flag is 1 or 0.")
        }
    }
}

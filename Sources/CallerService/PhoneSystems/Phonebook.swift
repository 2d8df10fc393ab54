import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import LookupIndex
import NIOCore
import PhoneNumbers
import StoreContract

/// Desk-phone phonebooks (`GET /v3/phonebook/{yealink,grandstream,cisco,snom}.xml`): the organization's
/// contacts in the XML each vendor's phones download, numbers written as the phones will see them
/// on incoming calls (`?numfmt=e164|national|intl00`), with an `ETag` of the index version so a
/// phone's periodic refresh costs a 304. Streamed in chunks; every value XML-escaped.
enum Phonebook {
    enum Vendor: String, CaseIterable, Sendable {
        case yealink, grandstream, cisco, snom
    }

    enum NumberFormat: String, Sendable {
        case e164, national, intl00
    }

    /// The phonebook answer of `snapshot` (or 304 when `If-None-Match` names its version).
    static func answer(
        _ vendor: Vendor, snapshot: IndexSnapshot, organization: Organization, request: Request, context: CallerRequestContext
    ) throws(InputError) -> Response {
        // In the path for Grandstream firmware that appends /phonebook.xml (no query fits there).
        var text: String? = context.parameters.get("numfmt")
        if text == nil { text = try Query(context).string("numfmt") }
        let format = NumberFormat(rawValue: text ?? NumberFormat.e164.rawValue)
        guard let format else {
            throw InputError("The number format (?numfmt=) is e164, national or intl00.")
        }
        let etag = "\"\(organization.id)-\(snapshot.version)-\(vendor.rawValue)-\(format.rawValue)\""
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) {
            return Response(status: .notModified, headers: [.eTag: etag])
        }
        let region = organization.defaultRegion
        let body = ResponseBody { writer in
            var bytes = Array(header(vendor, organization: organization).utf8)
            for stored in snapshot.allContacts() {
                let numbers = [stored.contact[.phone1], stored.contact[.phone2]].filter { !$0.isEmpty }.map {
                    written($0, as: format, region: region)
                }
                bytes += Array(entry(vendor, contact: stored.contact, numbers: numbers).utf8)
                if bytes.count >= 1 << 16 {
                    try await writer.write(ByteBuffer(bytes: bytes))
                    bytes.removeAll(keepingCapacity: true)
                }
            }
            bytes += Array(footer(vendor).utf8)
            try await writer.write(ByteBuffer(bytes: bytes))
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/xml; charset=utf-8", .eTag: etag, .cacheControl: "no-cache"],
            body: body)
    }

    /// An E.164 number as a phone will see the caller: `+420222333444`, `222333444`, `00420222333444`.
    static func written(_ e164: String, as format: NumberFormat, region: String) -> String {
        switch format {
        case .e164:
            return e164
        case .intl00:
            return "00" + e164.drop { $0 == "+" }
        case .national:
            // Only the organization's own country is written nationally; others stay E.164.
            let validator = CallerNameAnswers.validator
            guard let number = PhoneNumber(e164: e164), let code = validator.countryCode(forRegion: region),
                e164.hasPrefix("+\(code)"), let national = validator.format(number, as: .national)
            else { return e164 }
            return national.filter { $0.isASCII && $0.isNumber }
        }
    }

    private static func header(_ vendor: Vendor, organization: Organization) -> String {
        let prologue = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        switch vendor {
        case .yealink: return prologue + "<YealinkIPPhoneDirectory>\n"
        case .grandstream: return prologue + "<AddressBook>\n"
        case .cisco:
            return prologue + "<CiscoIPPhoneDirectory>\n<Title>\(escaped(organization.name))</Title>\n<Prompt>caller-lookup</Prompt>\n"
        case .snom: return prologue + "<tbook complete=\"true\">\n"
        }
    }

    private static func footer(_ vendor: Vendor) -> String {
        switch vendor {
        case .yealink: "</YealinkIPPhoneDirectory>\n"
        case .grandstream: "</AddressBook>\n"
        case .cisco: "</CiscoIPPhoneDirectory>\n"
        case .snom: "</tbook>\n"
        }
    }

    private static func entry(_ vendor: Vendor, contact: Contact, numbers: [String]) -> String {
        let name = escaped(contact.displayName)
        switch vendor {
        case .yealink:
            return "<DirectoryEntry><Name>\(name)</Name>" + numbers.map { "<Telephone>\(escaped($0))</Telephone>" }.joined()
                + "</DirectoryEntry>\n"
        case .cisco:
            // One number per entry: the phone shows the name once per number.
            return numbers.map { "<DirectoryEntry><Name>\(name)</Name><Telephone>\(escaped($0))</Telephone></DirectoryEntry>\n" }.joined()
        case .grandstream:
            var text = "<Contact><FirstName>\(escaped(contact[.firstName].isEmpty ? contact.displayName : contact[.firstName]))</FirstName>"
            text += "<LastName>\(escaped(contact[.lastName]))</LastName>"
            if !contact[.organization].isEmpty { text += "<Company>\(escaped(contact[.organization]))</Company>" }
            for (index, number) in numbers.enumerated() {
                text += "<Phone type=\"\(index == 0 ? "Work" : "Mobile")\"><phonenumber>\(escaped(number))</phonenumber><accountindex>1</accountindex></Phone>"
            }
            return text + "</Contact>\n"
        case .snom:
            // Snom's tbook: one item per number, the first the business number.
            var head = "<name>\(name)</name>"
            if !contact[.firstName].isEmpty { head += "<first_name>\(escaped(contact[.firstName]))</first_name>" }
            if !contact[.lastName].isEmpty { head += "<last_name>\(escaped(contact[.lastName]))</last_name>" }
            if !contact[.organization].isEmpty { head += "<organization>\(escaped(contact[.organization]))</organization>" }
            return numbers.enumerated().map { index, number in
                "<item context=\"active\" type=\"none\" fav=\"false\" mod=\"false\">\(head)<number>\(escaped(number))</number>"
                    + "<number_type>\(index == 0 ? "business" : "mobile")</number_type></item>\n"
            }.joined()
        }
    }

    /// One line of escaped text (`MarkupText`): a phone shows one line per entry.
    static func escaped(_ text: String) -> String {
        MarkupText.escaped(PhoneSystemText.render(text, maxLength: 1_000))
    }
}

extension LookupHandlers {
    /// The handler of one vendor's phonebook.
    func phonebook(_ vendor: Phonebook.Vendor) -> @Sendable (Request, CallerRequestContext) async throws -> Response {
        { request, context in
            let organization = try context.requireOrganization()
            let snapshot = try indexes.entry(for: organization).index.snapshot
            return try Phonebook.answer(vendor, snapshot: snapshot, organization: organization, request: request, context: context)
        }
    }
}

import SQLiteEngine
import CallerService
import Contacts
import Foundation
import StoreContract
#if canImport(FoundationXML)
import FoundationXML
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PhoneNumbers
import TestSupport
import Testing

/// Issue 17, part 5: desk-phone phonebooks, escaped, in the number form the phones match, with an
/// ETag a periodic refresh turns into 304.
@Suite struct PhonebookTests {
    static let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak")]

    @Test func everyFormatEscapesAndWritesTheNumbersAsAsked() async throws {
        let fixture = try ServiceFixture()
        let ipex = try #require(try fixture.store.organization(named: "IPEX"))
        let tricky = try Contact.validate(
            [.firstName: #"Jan "J" & <Co>"#, .lastName: "O'Neil", .organization: "A&B s.r.o.", .phone1: "+420222333444", .phone2: "+49301234567"],
            validator: PhoneNumberValidator()
        ).get()
        _ = try fixture.store.create(tricky, organizationID: ipex.id)
        try await buildApplication(configuration: ServiceConfiguration(), store: fixture.store).test(.router) { client in
            for vendor in ["yealink", "grandstream", "cisco", "snom"] {
                let response = try await client.execute(uri: "/v3/phonebook/\(vendor).xml?numfmt=national", method: .get, headers: Self.novak)
                let body = String(buffer: response.body)
                #expect(response.status == .ok, "\(vendor)")
                #expect(response.headers[.contentType] == "application/xml; charset=utf-8")
                #expect(body.hasPrefix(#"<?xml version="1.0" encoding="UTF-8"?>"#))
                #expect(body.contains("Jan &quot;J&quot; &amp; &lt;Co&gt;"), "\(vendor): \(body)")
                #expect(!body.contains("<Co>") && !body.contains(#""J""#), "\(vendor)")
                // National for the organization's country, E.164 for another.
                #expect(body.contains(">222333444<") && body.contains(">+49301234567<"), "\(vendor): \(body)")
                // The XML parses.
                let parser = XMLParser(data: Data(body.utf8))
                #expect(parser.parse(), "\(vendor): \(parser.parserError.map { "\($0)" } ?? "")")
            }
            let yealink = String(buffer: try await client.execute(uri: "/v3/phonebook/yealink.xml?numfmt=intl00", method: .get, headers: Self.novak).body)
            #expect(yealink.contains("<Telephone>00420222333444</Telephone><Telephone>0049301234567</Telephone>"))
            let grandstream = String(buffer: try await client.execute(uri: "/v3/phonebook/grandstream.xml", method: .get, headers: Self.novak).body)
            #expect(grandstream.contains("<LastName>O&#39;Neil</LastName><Company>A&amp;B s.r.o.</Company>"))
            #expect(grandstream.contains("<phonenumber>+420222333444</phonenumber>"))
            let snom = String(buffer: try await client.execute(uri: "/v3/phonebook/snom.xml", method: .get, headers: Self.novak).body)
            #expect(snom.contains("<tbook complete=\"true\">") && snom.contains("<last_name>O&#39;Neil</last_name><organization>A&amp;B s.r.o.</organization><number>+420222333444</number><number_type>business</number_type></item>"))
            #expect(snom.contains("<number>+49301234567</number><number_type>mobile</number_type>"), "one item per number")
            #expect(try await client.execute(uri: "/v3/phonebook/cisco.xml?numfmt=local", method: .get, headers: Self.novak).status == .badRequest)
            // Grandstream firmware that appends /phonebook.xml: the format in the path.
            let inPath = try await client.execute(uri: "/v3/phonebook/grandstream/national/phonebook.xml", method: .get, headers: Self.novak)
            #expect(inPath.status == .ok && String(buffer: inPath.body).contains("<phonenumber>222333444</phonenumber>"))
            let intl00 = String(buffer: try await client.execute(uri: "/v3/phonebook/grandstream/intl00/phonebook.xml", method: .get, headers: Self.novak).body)
            #expect(intl00.contains("<phonenumber>00420222333444</phonenumber>"))
            #expect(try await client.execute(uri: "/v3/phonebook/grandstream/local/phonebook.xml", method: .get, headers: Self.novak).status == .badRequest)
        }
    }

    @Test func anUnchangedPhonebookIs304() async throws {
        let fixture = try ServiceFixture()
        let ipex = try #require(try fixture.store.organization(named: "IPEX"))
        try await buildApplication(configuration: ServiceConfiguration(), store: fixture.store).test(.router) { client in
            let first = try await client.execute(uri: "/v3/phonebook/yealink.xml", method: .get, headers: Self.novak)
            let etag = try #require(first.headers[.eTag])
            var conditional = Self.novak
            conditional[.ifNoneMatch] = etag
            let again = try await client.execute(uri: "/v3/phonebook/yealink.xml", method: .get, headers: conditional)
            #expect(again.status == .notModified && again.body.readableBytes == 0)
            // Another number format is another document; a write is a new version.
            #expect(try await client.execute(uri: "/v3/phonebook/yealink.xml?numfmt=intl00", method: .get, headers: conditional).status == .ok)
            _ = try fixture.store.create(
                try Contact.validate([.lastName: "Nová", .phone1: "+420601222333"], validator: PhoneNumberValidator()).get(), organizationID: ipex.id)
            // The index learns of the write (in-process routes: on the next use after a catch-up).
            var status = HTTPResponse.Status.notModified
            for _ in 0..<200 where status == .notModified {
                _ = try await client.execute(uri: "/v3/contacts", method: .post, headers: [
                    .authorization: ServiceFixture.basic("novak", "hesloNovak"), .contentType: "application/json",
                ], body: ByteBuffer(string: #"{"lastName":"Další","phone1":"+420601222334"}"#))
                status = try await client.execute(uri: "/v3/phonebook/yealink.xml", method: .get, headers: conditional).status
            }
            #expect(status == .ok)
        }
    }
}

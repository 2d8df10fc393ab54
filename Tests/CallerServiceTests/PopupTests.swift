import SQLiteEngine
import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PhoneNumbers
import StoreContract
import TestSupport
import Testing

@testable import CallerService

/// The screen-pop page: rendering (escaping, links, several contacts, none, both languages) and the
/// route (Basic credentials, signed link tokens, security headers, labels).
@Suite struct PopupTests {
    static func contact(_ values: [ContactField: String]) throws -> Contact {
        try Contact.validate(values, validator: PhoneNumberValidator()).get()
    }

    static func card(_ values: [ContactField: String], phones: [String] = ["222 333 444"]) throws -> PopupPage.Card {
        PopupPage.Card(contact: try contact(values), phones: phones)
    }

    @Test func everyValueIsEscaped() throws {
        let evil = try Self.card([
            .firstName: "<script>alert(1)</script>", .lastName: "O'Brien & \"syn\"", .phone1: "+420222333444",
            .organization: "<img src=x onerror=alert(1)>", .customField1: "</td><script>x</script>",
        ])
        let html = PopupPage.render(
            number: "+420222333444", formattedNumber: "222 333 444", cards: [evil], suffixMatch: false,
            labels: [.customField1: "<b>Důležitost</b>"], language: .english)
        #expect(!html.contains("<script>"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Brien &amp; &quot;syn&quot;"))
        #expect(html.contains("&lt;b&gt;Důležitost&lt;/b&gt;"))
    }

    @Test func linksOpenInANewWindowAndOnlyHTTP() throws {
        let card = try Self.card([
            .firstName: "Jan", .lastName: "Novák", .phone1: "+420222333444", .nameUri: "https://crm.example.cz/person/1",
            .organization: "IPEX", .organizationUri: "https://crm.example.cz/org/9?a=1&b=2",
            .customField1: "VIP", .customField1Uri: "http://crm.example.cz/vip", .email: "jan?x@novak.cz",
        ])
        let html = PopupPage.render(
            number: "+420222333444", formattedNumber: "222 333 444", cards: [card], suffixMatch: false, labels: [:],
            language: .english)
        #expect(html.contains(#"<a href="https://crm.example.cz/person/1" target="_blank" rel="noopener noreferrer">Jan Novák</a>"#))
        #expect(html.contains(#"<a href="https://crm.example.cz/org/9?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">IPEX</a>"#))
        #expect(html.contains(#"<th>Custom field 1</th><td><a href="http://crm.example.cz/vip" target="_blank""#))
        #expect(html.contains(#"<a href="mailto:jan%3Fx@novak.cz">jan?x@novak.cz</a>"#))
        #expect(PopupPage.linked("click", "javascript:alert(1)") == "click")
        #expect(PopupPage.linked("x", "data:text/html,hi") == "x")
    }

    @Test func severalContactsTheBestFirstAndTheUnknownCaller() throws {
        let first = try Self.card([.firstName: "Jan", .lastName: "Novák", .phone1: "+420222333444"])
        let second = try Self.card([.firstName: "Ivan", .lastName: "Neúplný", .phone1: "+420222333444"])
        let html = PopupPage.render(
            number: "+420222333444", formattedNumber: "222 333 444", cards: [first, second], suffixMatch: false,
            labels: [:], language: .czech)
        let jan = try #require(html.range(of: "<h1>Jan Novák</h1>"))
        let ivan = try #require(html.range(of: "<h2>Ivan Neúplný</h2>"))
        #expect(jan.lowerBound < ivan.lowerBound)
        #expect(html.contains("Další kontakty s tímto číslem"))
        #expect(html.contains("<title>Jan Novák · 222 333 444</title>"))

        let unknownCzech = PopupPage.render(
            number: "+420777000111", formattedNumber: "777 000 111", cards: [], suffixMatch: false, labels: [:], language: .czech)
        #expect(unknownCzech.contains("<h1>Neznámý volající</h1>"))
        #expect(unknownCzech.contains("Volá <strong>777 000 111</strong>"))
        #expect(unknownCzech.contains(#"<html lang="cs">"#))
        let unknownEnglish = PopupPage.render(
            number: "+420777000111", formattedNumber: "777 000 111", cards: [], suffixMatch: false, labels: [:], language: .english)
        #expect(unknownEnglish.contains("<h1>Unknown caller</h1>"))
        #expect(unknownEnglish.contains(#"<html lang="en">"#))
    }

    @Test(arguments: [
        ("cs-CZ,cs;q=0.9,en;q=0.8", PopupLanguage.czech), ("en-US,en;q=0.9,cs;q=0.5", .english), ("sk", .czech),
        ("de-DE", .english), ("", .english), ("en;q=0.2, cs;q=0.7", .czech), ("cs;q=0, en", .english),
    ])
    func languageFollowsAcceptLanguage(header: String, language: PopupLanguage) {
        #expect(PopupLanguage.preferred(header) == language)
    }

    @Test func theRouteWithCredentialsOrTokenLabelsAndHeaders() async throws {
        let fixture = try ServiceFixture()
        let store = fixture.store
        let ipex = try #require(try store.organization(named: "IPEX"))
        _ = try store.importContacts(csv: Fixtures.maximalCSV, organizationID: ipex.id, validator: PhoneNumberValidator())
        _ = try store.setLabels([.customField1: "Důležitost", .customField2: "Obchodník"], organizationID: ipex.id)
        let token = try store.popupToken(organizationID: ipex.id)
        let app = buildApplication(configuration: ServiceConfiguration(), store: store)
        try await app.test(.router) { client in
            let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak"), .acceptLanguage: "cs-CZ,cs;q=0.9"]
            let page = try await client.execute(uri: "/popup?number=00420222333444", method: .get, headers: novak)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'none'; style-src 'sha256-") == true)
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            let html = String(buffer: page.body)
            #expect(html.contains("<h1>Jan Novák</h1>"))
            #expect(html.contains(#"<p class="org"><a href="https://nase.aplikace.cz/account/12123" target="_blank" rel="noopener noreferrer">IPEX a.s.</a></p>"#))
            #expect(html.contains("<h2>Ivan Neúplný</h2>"))
            #expect(html.contains("<th>Důležitost</th>"))
            #expect(html.contains("Volá <strong>222 333 444</strong>"))

            let anonymous = try await client.execute(uri: "/popup?number=00420222333444", method: .get)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate] == nil, "no Basic challenge: a browser would keep the password for the host")
            #expect(!String(buffer: anonymous.body).contains("Novák"))

            let linked = try await client.execute(uri: "/popup?token=\(token)&number=%2B420222333444", method: .get)
            #expect(linked.status == .ok)
            #expect(String(buffer: linked.body).contains("Jan Novák"))
            // One character of the MAC changed (to a different one: a test that cannot pass by luck).
            var forgedToken = Array(token)
            forgedToken[forgedToken.count - 10] = forgedToken[forgedToken.count - 10] == "x" ? "y" : "x"
            let forged = try await client.execute(uri: "/popup?token=\(String(forgedToken))&number=%2B420222333444", method: .get)
            #expect(forged.status == .forbidden)
            #expect(!String(buffer: forged.body).contains("Novák"))
            _ = try store.rotatePopupToken(organizationID: ipex.id)
            let revoked = try await client.execute(uri: "/popup?token=\(token)&number=%2B420222333444", method: .get)
            #expect(revoked.status == .forbidden)

            let missing = try await client.execute(uri: "/popup", method: .get, headers: novak)
            #expect(missing.status == .badRequest)

            // Another organization's user sees nothing of IPEX: an unknown caller.
            let cizi = try await client.execute(
                uri: "/popup?number=00420222333444", method: .get, headers: [.authorization: ServiceFixture.basic("cizi", "hesloCizi1")])
            #expect(cizi.status == .ok)
            #expect(!String(buffer: cizi.body).contains("Novák"))

            // Labels over REST and in the lookup JSON.
            let put = try await client.execute(
                uri: "/v3/labels", method: .put, headers: [.authorization: ServiceFixture.basic("novak", "hesloNovak"), .contentType: "application/json"],
                body: ByteBuffer(string: #"{"customField3":"Technik","customField2":null}"#))
            #expect(put.status == .ok)
            #expect(String(buffer: put.body) == #"{"labels":{"customField1":"Důležitost","customField3":"Technik"}}"#)
            let bad = try await client.execute(
                uri: "/v3/labels", method: .put, headers: [.authorization: ServiceFixture.basic("novak", "hesloNovak"), .contentType: "application/json"],
                body: ByteBuffer(string: #"{"nickname":"x"}"#))
            #expect(bad.status == .unprocessableContent)
            let lookup = try await client.execute(uri: "/v3/contacts/lookup/00420222333444", method: .get, headers: novak)
            #expect(String(buffer: lookup.body).contains(#""labels":{"customField1":"Důležitost","customField3":"Technik"}"#))
        }
    }
}

import StoreContract
import PhoneNumbers
import SQLiteEngine
import CallerService
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import CallerService

/// Issue 17, parts 1-3: the caller's name as plain text for PBXs that show any body as the name,
/// the numbers they send, and the X-Caller-* headers and `?format=kv` answers.
@Suite struct CallerNameTests {
    static let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak")]

    func withSample(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let fixture = try ServiceFixture()
        let ipex = try #require(try fixture.store.organization(named: "IPEX"))
        _ = try fixture.store.importContacts(csv: Fixtures.maximalCSV, organizationID: ipex.id, validator: .init())
        var configuration = ServiceConfiguration()
        configuration.loginThrottleSeconds = 600
        try await buildApplication(configuration: configuration, store: fixture.store).test(.router) { client in
            try await body(client)
        }
    }

    func get(_ client: some TestClientProtocol, _ uri: String, headers: HTTPFields = novak, method: HTTPRequest.Method = .get)
        async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: String)
    {
        let response = try await client.execute(uri: uri, method: method, headers: headers)
        return (response.status, response.headers, String(buffer: response.body))
    }

    @Test func theNameInTheFormsPBXsSendIt() async throws {
        try await withSample { client in
            // E.164, digits only (mod_cidlookup), a decoded "+" (a space), %2B, 00, national, tel:, sip:.
            for number in ["%2B420222333444", "420222333444", "00420222333444", "222333444", "tel:%2B420222333444",
                           "sip:%2B420222333444@pbx.example.com"] {
                let answer = try await get(client, "/v3/contacts/name/\(number)")
                #expect(answer.status == .ok && answer.body == "Jan Novák", "\(number): \(answer.status) \(answer.body)")
                #expect(answer.headers[.contentType] == "text/plain; charset=utf-8")
                #expect(answer.headers[HTTPField.Name("X-Caller-Agents")!] == "22,100")
                #expect(answer.headers[HTTPField.Name("X-Caller-Match")!] == "exact")
            }
            // Query values are percent-decoded once: %2540 is "%40", never "@".
            #expect(try await get(client, "/v3/contacts/lookup?email=jan%40novak.com").status == .ok)
            #expect(try await get(client, "/v3/contacts/lookup?email=jan%2540novak.com").status == .notFound)
            #expect(try await get(client, "/v3/contacts/name?number=%2B420222333444").body == "Jan Novák")
            let query = try await get(client, "/v3/contacts/name?number=+420222333444")
            #expect(query.status == .ok && query.body == "Jan Novák", "a + the URL decoded to a space")
            #expect(try await get(client, "/v3/contacts/name/420222333444?maxlen=3").body == "Jan")
            #expect(try await get(client, "/v3/contacts/name/420222333444?ascii=1").body == "Jan Novak")
            let kv = try await get(client, "/v3/contacts/name/420222333444?format=kv")
            let link = try #require(kv.headers[HTTPField.Name("X-Caller-Url")!])
            #expect(link.hasPrefix("http://localhost/popup?number=%2B420222333444&token=v2."), "\(link)")
            #expect(kv.body == "name=Jan%20Nov%C3%A1k&organization=IPEX%20a.s.&agents=22%2C100&match=exact&url="
                + link.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))!)
            // The same headers and kv on the lookup and route answers.
            let lookup = try await get(client, "/v3/contacts/lookup/420222333444?format=kv")
            #expect(lookup.status == .ok && lookup.body == kv.body)
            #expect(try await get(client, "/v3/contacts/route?number=+420222333444&format=kv").body == kv.body)
            let route = try await get(client, "/v3/contacts/route/420222333444")
            #expect(route.headers[HTTPField.Name("X-Caller-Name")!] == "Jan Novák")
            #expect(try await get(client, "/v3/contacts/route/601000999?format=kv").body
                == "name=&organization=&agents=&match=none&url=")
        }
    }

    /// No error text ever reaches a handset: on no match and on every error the body is empty.
    @Test func everyErrorAndNoMatchHaveAnEmptyBody() async throws {
        try await withSample { client in
            let unknown = try await get(client, "/v3/contacts/name/601000999")
            #expect(unknown.status == .notFound && unknown.body.isEmpty)
            let fallback = try await get(client, "/v3/contacts/name/601000999?fallback=number")
            #expect(fallback.status == .notFound && fallback.body == "+420 601 000 999")
            var answers: [(String, HTTPResponse.Status, String)] = []
            for (uri, headers, method) in [
                ("/v3/contacts/name/420222333444", HTTPFields(), HTTPRequest.Method.get),
                ("/v3/contacts/name/420222333444", [.authorization: ServiceFixture.basic("novak", "spatne")], .get),
                ("/v3/contacts/name/420222333444?maxlen=0", Self.novak, .get),
                ("/v3/contacts/name/420222333444?colour=red", Self.novak, .get),
                ("/v3/contacts/name/420222333444?format=xml", Self.novak, .get),
                ("/v3/contacts/name?number=1&number=2", Self.novak, .get),
                ("/v3/contacts/name", Self.novak, .get),
                ("/v3/contacts/name/420222333444", Self.novak, .post),
            ] {
                let answer = try await get(client, uri, headers: headers, method: method)
                answers.append((uri, answer.status, answer.body))
            }
            // Two more wrong passwords: the login is throttled, and 429 is empty too.
            for _ in 0..<2 { _ = try await get(client, "/v3/contacts/name/1", headers: [.authorization: ServiceFixture.basic("novak", "x")]) }
            let throttled = try await get(client, "/v3/contacts/name/1", headers: [.authorization: ServiceFixture.basic("novak", "y")])
            answers.append(("throttled", throttled.status, throttled.body))
            #expect(answers.map(\.1) == [.unauthorized, .unauthorized, .badRequest, .badRequest, .badRequest, .badRequest, .badRequest,
                                         .methodNotAllowed, .tooManyRequests], "\(answers)")
            for (uri, status, body) in answers { #expect(body.isEmpty, "\(uri) \(status): '\(body)'") }
            #expect(throttled.headers[.retryAfter] != nil)
        }
    }

    @Test func aNameIsOneSafeLine() {
        #expect(PhoneSystemText.render("Jan\nNovák\r\n\u{0}  ${HANGUP()}\u{2028}x", maxLength: 60) == "Jan Novák {HANGUP()} x")
        #expect(PhoneSystemText.render("  Žluťoučký kůň ", maxLength: 60, ascii: true) == "Zlutoucky kun")
        #expect(PhoneSystemText.render("Müller 王", maxLength: 60, ascii: true) == "Muller")
        #expect(PhoneSystemText.render(String(repeating: "é", count: 100), maxLength: 60).count == 60)
        // Every `$` before a `{` goes, so `$${…}` cannot leave a `${…}` behind.
        #expect(PhoneSystemText.render("a$${x} $$ y$ {z}", maxLength: 60) == "a{x} $$ y$ {z}")
        // Cut by characters: a letter with a combining mark is one character of two scalars.
        #expect(PhoneSystemText.render(String(repeating: "e\u{301}", count: 40), maxLength: 30) == String(repeating: "e\u{301}", count: 30))
        #expect(PhoneSystemText.render("Nováková", maxLength: 4) == "Nová")
    }
}

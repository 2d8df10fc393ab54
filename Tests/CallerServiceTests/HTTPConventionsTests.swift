import CallerService
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

/// Issue 16: the conventions the OpenAPI document states for every route (schemathesis checks them
/// against the real binary in scripts/schemathesis.sh; these pin them in-process).
@Suite struct HTTPConventionsTests {
    static let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak")]

    func send(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil,
        headers: HTTPFields = novak
    ) async throws -> (HTTPResponse.Status, HTTPFields, String) {
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        return (response.status, response.headers, String(buffer: response.body))
    }

    @Test func aMethodAPathDoesNotHaveAnswers405WithAllow() async throws {
        let app = buildApplication(configuration: ServiceConfiguration(), store: try ServiceFixture().store)
        try await app.test(.router) { client in
            for (method, uri, allow) in [
                (HTTPRequest.Method.trace, "/v3/whoami", "GET"), (.delete, "/v3/contacts", "GET, POST"),
                (.post, "/v3/contacts/7", "DELETE, GET, PATCH, PUT"), (.put, "/health", "GET"), (.trace, "/popup", "GET"),
            ] {
                let (status, headers, body) = try await send(client, method, uri)
                #expect(status == .methodNotAllowed, "\(method) \(uri)")
                #expect(headers[.allow] == allow, "\(method) \(uri)")
                #expect(body.hasPrefix(#"{"error":"#), "\(body)")
            }
            // A path nobody has is still 404, in the same error shape.
            let (status, _, body) = try await send(client, .get, "/v3/nothing")
            #expect(status == .notFound && body.hasPrefix(#"{"error":"#))
        }
    }

    @Test func queryParametersAreReadStrictly() async throws {
        let app = buildApplication(configuration: ServiceConfiguration(), store: try ServiceFixture().store)
        try await app.test(.router) { client in
            for uri in [
                "/v3/contacts?limit=1&limit=2", "/v3/contacts?limit=abc", "/v3/contacts?limit=0", "/v3/contacts?colour=red",
                "/v3/contacts/changes?since=-1", "/v3/contacts/changes?since=0&wait=x", "/v3/contacts/lookup?email=a@b.cz&email=c@d.cz",
                "/v3/whoami?debug=1", "/v3/contacts/lookup/222333444?x=1",
            ] {
                let (status, _, body) = try await send(client, .get, uri)
                #expect(status == .badRequest, "\(uri): \(status) \(body)")
            }
            #expect(try await send(client, .get, "/v3/contacts?limit=1000&after=0").0 == .ok)
            #expect(try await send(client, .get, "/v3/contacts/changes?since=0&wait=0&limit=10").0 == .ok)
        }
    }

    @Test func aJSONBodyIsJSON() async throws {
        let app = buildApplication(configuration: ServiceConfiguration(), store: try ServiceFixture().store)
        let contact = #"{"lastName":"Nová","phone1":"+420 601 222 333"}"#
        try await app.test(.router) { client in
            var form = Self.novak
            form[.contentType] = "application/x-www-form-urlencoded"
            #expect(try await send(client, .post, "/v3/contacts", contact, headers: form).0 == .unsupportedMediaType)
            var json = Self.novak
            json[.contentType] = "application/json; charset=utf-8"
            let (status, _, body) = try await send(client, .post, "/v3/contacts", contact, headers: json)
            #expect(status == .created)
            // What a GET answered, sent back with its read-only keys (agents too), is accepted.
            let id = try #require((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["id"] as? Int)
            #expect(try await send(client, .put, "/v3/contacts/\(id)", body, headers: json).0 == .ok)
            // No Content-Type, or text/plain, is refused: a form on another site can send those
            // without the browser asking first.
            #expect(try await send(client, .patch, "/v3/contacts/\(id)", #"{"firstName":"Eva"}"#).0 == .unsupportedMediaType)
            var plain = Self.novak
            plain[.contentType] = "text/plain"
            #expect(try await send(client, .patch, "/v3/contacts/\(id)", #"{"firstName":"Eva"}"#, headers: plain).0 == .unsupportedMediaType)
            #expect(try await send(client, .patch, "/v3/contacts/\(id)", #"{"firstName":"Eva"}"#, headers: json).0 == .ok)
            // A batch operation with a key its op does not take is refused whole.
            for operation in [#"{"op":"delete","id":\#(id),"extra":1}"#, #"{"op":"delete","id":\#(id),"externalId":"x"}"#,
                              #"{"op":"upsert","contact":{"lastName":"A","phone1":"+420601222334"},"id":3}"#] {
                let (status, _, answer) = try await send(client, .post, "/v3/contacts/batch", #"{"operations":[\#(operation)]}"#, headers: json)
                #expect(status == .unprocessableContent || status == .badRequest, "\(operation): \(status) \(answer)")
            }
            #expect(try await send(client, .get, "/v3/contacts/\(id)").0 == .ok, "nothing of a refused batch was written")
        }
    }
}

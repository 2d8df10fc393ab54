import NIOFoundationCompat
import CallerService
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

@Suite struct ContactsAPITests {
    let fixture: ServiceFixture
    var store: SQLiteStore { fixture.store }

    init() throws {
        fixture = try ServiceFixture()
    }

    static let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak"),
                                    .contentType: "application/json"]
    static let cizi: HTTPFields = [.authorization: ServiceFixture.basic("cizi", "hesloCizi1"),
                                   .contentType: "application/json"]

    func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
    }

    func send(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil,
              headers: HTTPFields = novak) async throws -> TestResponse {
        try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }

    @Test func createReadPatchReplaceDelete() async throws {
        let app = buildApplication(configuration: ServiceConfiguration(), store: store)
        try await app.test(.router) { client in
            let created = try await send(client, .post, "/v3/contacts",
                                         #"{"firstName":"Jan","lastName":"Novák","phone1":"+420 222 333 444","externalId":36936,"nameUri":"https://crm.example.cz/1"}"#)
            #expect(created.status == .created)
            let contact = json(created)
            let id = try #require(contact["id"] as? Int)
            #expect(contact["phone1"] as? String == "+420222333444")
            #expect(contact["externalId"] as? String == "36936")
            #expect(created.headers[.location] == "/v3/contacts/\(id)")
            // Read-your-writes: the lookup sees it at once.
            #expect(try await send(client, .get, "/v3/contacts/lookup/222333444").status == .ok)

            let patched = try await send(client, .patch, "/v3/contacts/\(id)", #"{"agent1":"22","nameUri":null}"#)
            #expect(patched.status == .ok)
            #expect(json(patched)["agent1"] as? String == "22")
            #expect(json(patched)["nameUri"] is NSNull)
            #expect(json(patched)["firstName"] as? String == "Jan", "PATCH keeps what it was not given")

            let replaced = try await send(client, .put, "/v3/contacts/\(id)", #"{"organization":"IPEX a.s.","phone1":"+420222333444"}"#)
            #expect(replaced.status == .ok)
            #expect(json(replaced)["firstName"] is NSNull, "PUT replaces the whole record")
            #expect(json(try await send(client, .get, "/v3/contacts/\(id)"))["organization"] as? String == "IPEX a.s.")

            #expect(try await send(client, .delete, "/v3/contacts/\(id)").status == .noContent)
            #expect(try await send(client, .get, "/v3/contacts/\(id)").status == .notFound)
            #expect(try await send(client, .get, "/v3/contacts/lookup/222333444").status == .notFound)
            #expect(try await send(client, .delete, "/v3/contacts/\(id)").status == .notFound)
        }
    }

    @Test func invalidInputNamesTheFieldAndTheRule() async throws {
        let app = buildApplication(configuration: ServiceConfiguration(), store: store)
        try await app.test(.router) { client in
            let invalid = try await send(client, .post, "/v3/contacts", #"{"lastName":"Novák","phone1":"+42022233","email":"x@"}"#)
            #expect(invalid.status == .unprocessableContent)
            let errors = json(invalid)["errors"] as? [[String: Any]]
            #expect(errors?.compactMap { $0["field"] as? String }.sorted() == ["email", "phone1"])
            #expect(try await send(client, .post, "/v3/contacts", #"{"lastName":"x","phone1":"+420222333444","phone3":"1"}"#).status == .badRequest)
            #expect(try await send(client, .post, "/v3/contacts", #"{"lastName":true,"phone1":"+420222333444"}"#).status == .badRequest)
            #expect(try await send(client, .post, "/v3/contacts", "not json").status == .badRequest)
            let bomb = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
            #expect(try await send(client, .post, "/v3/contacts", bomb).status == .badRequest)
            #expect(try await send(client, .post, "/v3/contacts", #"{"lastName":"x","phone1":"+420222333444","nameUri":"javascript:alert(1)"}"#).status == .unprocessableContent)
        }
    }

    @Test func upsertByExternalIdAndDuplicates() async throws {
        let app = buildApplication(configuration: ServiceConfiguration(), store: store)
        try await app.test(.router) { client in
            let first = try await send(client, .put, "/v3/contacts/external/crm-7", #"{"lastName":"Král","phone1":"+420777000111"}"#)
            #expect(first.status == .created)
            let again = try await send(client, .put, "/v3/contacts/external/crm-7", #"{"lastName":"Králová","phone1":"+420777000111"}"#)
            #expect(again.status == .ok)
            #expect(json(again)["id"] as? Int == json(first)["id"] as? Int)
            #expect(try await send(client, .put, "/v3/contacts/external/crm-7", #"{"lastName":"x","phone1":"+420777000111","externalId":"other"}"#).status == .badRequest)
            let duplicate = try await send(client, .post, "/v3/contacts", #"{"lastName":"y","phone1":"+420777000112","externalId":"crm-7"}"#)
            #expect(duplicate.status == .conflict)
        }
    }

    @Test func listPagesWithAStableCursor() async throws {
        let app = buildApplication(configuration: ServiceConfiguration(), store: store)
        try await app.test(.router) { client in
            for number in 0..<5 {
                _ = try await send(client, .post, "/v3/contacts", #"{"lastName":"N\#(number)","phone1":"+42077700011\#(number)"}"#)
            }
            let page = try await send(client, .get, "/v3/contacts?limit=2")
            #expect((json(page)["contacts"] as? [Any])?.count == 2)
            let next = try #require(json(page)["next"] as? String)
            let rest = try await send(client, .get, "/v3/contacts?limit=10&after=\(next)")
            #expect((json(rest)["contacts"] as? [[String: Any]])?.map { $0["lastName"] as? String } == ["N2", "N3", "N4"])
            #expect(json(rest)["next"] is NSNull)
        }
    }

    @Test func otherOrganizationsCannotTouchTheContact() async throws {
        let app = buildApplication(configuration: ServiceConfiguration(), store: store)
        try await app.test(.router) { client in
            let id = try #require(json(try await send(client, .post, "/v3/contacts", #"{"lastName":"A","phone1":"+420777000111"}"#))["id"] as? Int)
            for (method, body) in [(HTTPRequest.Method.get, nil), (.put, #"{"lastName":"B","phone1":"+420777000111"}"#),
                                   (.patch, #"{"lastName":"B"}"#), (.delete, nil)] as [(HTTPRequest.Method, String?)] {
                #expect(try await send(client, method, "/v3/contacts/\(id)", body, headers: Self.cizi).status == .notFound)
            }
            #expect((json(try await send(client, .get, "/v3/contacts", headers: Self.cizi))["contacts"] as? [Any])?.isEmpty == true)
            #expect((json(try await send(client, .get, "/v3/contacts/changes?since=0", headers: Self.cizi))["changes"] as? [Any])?.isEmpty == true)
            #expect(json(try await send(client, .get, "/v3/contacts/\(id)"))["lastName"] as? String == "A")
        }
    }

    @Test func changeFeedInOrderAndLongPollWakesOnAChange() async throws {
        let app = buildApplication(configuration: ServiceConfiguration(), store: store)
        try await app.test(.router) { client in
            let id = try #require(json(try await send(client, .post, "/v3/contacts", #"{"lastName":"A","phone1":"+420777000111"}"#))["id"] as? Int)
            _ = try await send(client, .patch, "/v3/contacts/\(id)", #"{"lastName":"B"}"#)
            _ = try await send(client, .delete, "/v3/contacts/\(id)")
            let feed = json(try await send(client, .get, "/v3/contacts/changes?since=0"))
            #expect(feed["version"] as? Int == 3)
            #expect(feed["resync"] as? Bool == false)
            #expect((feed["changes"] as? [[String: Any]])?.map { $0["op"] as? String } == ["delete"])
            let fromOne = json(try await send(client, .get, "/v3/contacts/changes?since=1"))
            #expect((fromOne["changes"] as? [[String: Any]])?.count == 1)
            #expect(json(try await send(client, .get, "/v3/contacts/changes?since=99"))["resync"] as? Bool == true)
            #expect(try await send(client, .get, "/v3/contacts/changes").status == .badRequest)

            // A long poll at the current version returns when a write arrives, long before `wait`.
            let started = ContinuousClock.now
            async let polled = send(client, .get, "/v3/contacts/changes?since=3&wait=20")
            try await Task.sleep(for: .milliseconds(200))
            _ = try await send(client, .post, "/v3/contacts", #"{"lastName":"C","phone1":"+420777000112"}"#)
            let woken = json(try await polled)
            #expect(woken["version"] as? Int == 4)
            #expect((woken["changes"] as? [[String: Any]])?.first?["op"] as? String == "upsert")
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }
}

extension ContactsAPITests {
    @Test func batchIsAllOrNothing() async throws {
        let app = buildApplication(configuration: ServiceConfiguration(), store: store)
        try await app.test(.router) { client in
            let first = try await send(client, .post, "/v3/contacts/batch", """
                {"operations":[
                  {"op":"upsert","contact":{"lastName":"A","phone1":"+420777000111","externalId":"a"}},
                  {"op":"upsert","contact":{"lastName":"B","phone1":"+420777000112"}},
                  {"op":"upsert","contact":{"lastName":"A2","phone1":"+420777000111","externalId":"a"}}
                ]}
                """)
            #expect(first.status == .ok)
            let results = json(first)["results"] as? [[String: Any]]
            #expect(results?.map { $0["status"] as? Int } == [201, 201, 200])
            #expect(try await send(client, .get, "/v3/contacts/lookup/777000111").status == .ok)

            // One invalid item: 422, each problem listed, nothing written.
            let invalid = try await send(client, .post, "/v3/contacts/batch", """
                {"operations":[{"op":"delete","externalId":"a"},{"op":"upsert","contact":{"lastName":"C","phone1":"+42"}},{"op":"jump"}]}
                """)
            #expect(invalid.status == .unprocessableContent)
            #expect((json(invalid)["results"] as? [[String: Any]])?.map { $0["index"] as? Int } == [1, 2])
            #expect(try await send(client, .get, "/v3/contacts/lookup/777000111").status == .ok, "the delete was not applied")

            // A store failure in the middle rolls back the items before it.
            let missing = try await send(client, .post, "/v3/contacts/batch", """
                {"operations":[{"op":"delete","externalId":"a"},{"op":"delete","id":999}]}
                """)
            #expect(missing.status == .notFound)
            #expect(try await send(client, .get, "/v3/contacts/lookup/777000111").status == .ok, "rolled back")

            let deleted = try await send(client, .post, "/v3/contacts/batch", #"{"operations":[{"op":"delete","externalId":"a"}]}"#)
            #expect((json(deleted)["results"] as? [[String: Any]])?.first?["status"] as? Int == 204)
            #expect(try await send(client, .get, "/v3/contacts/lookup/777000111").status == .notFound)
            #expect(try await send(client, .post, "/v3/contacts/batch", #"{"ops":[]}"#).status == .badRequest)
        }
    }
}

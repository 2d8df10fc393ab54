import Contacts
import CallerService
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PhoneNumbers
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

/// The follower service: every node's indexes follow the store whoever wrote to it — a CLI import
/// into the same data directory (another connection), another node on the same store — and a
/// node warms up before it serves.
@Suite struct StoreFollowerTests {
    let fixture: ServiceFixture
    var store: SQLiteStore { fixture.store }
    static let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak")]

    init() throws {
        fixture = try ServiceFixture()
    }

    /// Runs `body` with the node's follower service running; stops it afterwards.
    func withFollower<T: Sendable>(
        _ node: CallerNode, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        let follower = node.follower(interval: .milliseconds(20))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await follower.run()
                return nil
            }
            let result = try await body()
            group.cancelAll()
            while let _ = try await group.next() {}
            return result
        }
    }

    /// Waits (up to three minutes: the suites all start at once on CI's two cores, each test's
    /// fixture hashing passwords with yescrypt, and a node's first build waits its turn — one run
    /// waited 70 s) until `condition` holds; how long it took.
    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws -> Duration {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(180) {
            if (try? await condition()) == true { return ContinuousClock.now - started }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("timed out waiting until \(what)")
        return .seconds(180)
    }

    func status(_ client: some TestClientProtocol, _ uri: String) async throws -> HTTPResponse.Status {
        try await client.execute(uri: uri, method: .get, headers: Self.novak).status
    }

    func ipexID() throws -> Int64 { try #require(try store.organization(named: "IPEX")).id }

    /// IPEX with `csv` imported, a node with its follower running, ready: `body` gets a client of
    /// it and what the CLI would open, a second connection to the same store.
    func withReadyNode(
        importing csv: [UInt8], _ body: @Sendable (any TestClientProtocol, SQLiteStore, Int64) async throws -> Void
    ) async throws {
        let organizationID = try ipexID()
        _ = try store.importContacts(csv: csv, organizationID: organizationID, validator: PhoneNumberValidator())
        let node = CallerNode(configuration: ServiceConfiguration(), store: store)
        let app = node.application()
        let directory = fixture.directory.path
        try await withFollower(node) {
            try await app.test(.router) { client in
                _ = try await eventually("the node is ready") { try await status(client, "/health") == .ok }
                try await body(client, try SQLiteStore(directory: directory), organizationID)
            }
        }
    }

    @Test func aCLIImportIntoARunningServersStoreIsServed() async throws {
        try await withReadyNode(importing: Fixtures.minimalCSV) { client, cli, organizationID in
            #expect(try await status(client, "/v3/contacts/lookup/222333444") == .ok)
            // What `caller-lookup import` does: its own connection to the same database.
            let csv = Array("lastName;phone1\nNová;+420 601 222 333\n".utf8)
            _ = try cli.importContacts(csv: csv, organizationID: organizationID, validator: PhoneNumberValidator())
            let lag = try await eventually("the import is served") {
                try await status(client, "/v3/contacts/lookup/601222333") == .ok
            }
            #expect(try await status(client, "/v3/contacts/lookup/222333444") == .notFound, "the replaced contact is gone")
            print("CLI import served after \(lag)")
        }
    }

    @Test func aTokenRevokedByTheCLIBesideARunningServerIsRefused() async throws {
        let (_, secret) = try store.createToken(organizationID: try ipexID(), scope: .lookup, label: "FreeSWITCH")
        try await withReadyNode(importing: Fixtures.minimalCSV) { client, cli, organizationID in
            let bearer: HTTPFields = [.authorization: "Bearer \(secret)"]
            #expect(try await client.execute(uri: "/v3/contacts/name/222333444", method: .get, headers: bearer).status == .ok)
            // What `caller-lookup token revoke 1 --org IPEX` does: its own connection to the store.
            try cli.revokeToken(id: 1, organizationID: organizationID)
            let lag = try await eventually("the revoked token is refused") {
                try await client.execute(uri: "/v3/contacts/name/222333444", method: .get, headers: bearer).status == .unauthorized
            }
            #expect(try await client.execute(uri: "/v3/contacts/name/222333444?token=\(secret)", method: .get).status == .unauthorized)
            print("token revoked by the CLI refused after \(lag)")
        }
    }

    @Test func aSecondServerOnTheSameStoreSeesTheFirstOnesWriteAndItsLongPollWakes() async throws {
        let first = CallerNode(configuration: ServiceConfiguration(), store: store)
        let second = CallerNode(configuration: ServiceConfiguration(), store: try SQLiteStore(directory: fixture.directory.path))
        let (firstApp, secondApp) = (first.application(), second.application())
        try await withFollower(second) {
            try await secondApp.test(.router) { secondClient in
                _ = try await eventually("the second node is ready") { try await status(secondClient, "/health") == .ok }
                // A long poll on the second node, then a write on the first: the poll must come back
                // with the write long before its 20 s are up (a poll that only timed out would
                // return at 20 s with no change).
                let poll = Task {
                    let started = ContinuousClock.now
                    let response = try await secondClient.execute(
                        uri: "/v3/contacts/changes?since=0&wait=20", method: .get, headers: Self.novak)
                    return (String(buffer: response.body), ContinuousClock.now - started)
                }
                try await Task.sleep(for: .milliseconds(200))
                try await firstApp.test(.router) { firstClient in
                    var headers = Self.novak
                    headers[.contentType] = "application/json"
                    let created = try await firstClient.execute(
                        uri: "/v3/contacts", method: .post, headers: headers,
                        body: ByteBuffer(string: #"{"lastName":"Dvojka","phone1":"+420 602 111 222"}"#))
                    #expect(created.status == .created)
                }
                let (body, waited) = try await poll.value
                #expect(body.contains(#""lastName":"Dvojka""#), "\(body)")
                #expect(waited < .seconds(15), "the long poll returned after \(waited): woken by the write, not its timeout")
                _ = try await eventually("the second node serves the write") {
                    try await status(secondClient, "/v3/contacts/lookup/602111222") == .ok
                }
            }
        }
    }

    /// `caller-lookup org labels` beside a running server (another connection): lookups show the
    /// new labels, which came through the change log with their own version.
    @Test func labelsSetBesideARunningServerAreServed() async throws {
        try await withReadyNode(importing: Fixtures.maximalCSV) { client, cli, organizationID in
            let before = try #require(try cli.organization(id: organizationID)).version
            let updated = try cli.setLabels([.customField1: "Důležitost"], organizationID: organizationID)
            #expect(updated.version == before + 1)
            #expect(try cli.setLabels([.customField1: "Důležitost"], organizationID: organizationID).version == before + 1,
                    "unchanged labels are not a change")
            _ = try await eventually("the labels are served") {
                let response = try await client.execute(uri: "/v3/contacts/lookup/222333444", method: .get, headers: Self.novak)
                return String(buffer: response.body).contains(#""labels":{"customField1":"Důležitost"}"#)
            }
        }
    }

    /// The warm start builds every organization (two at a time): once `/health` is ok, each one's
    /// lookups answer from its own index.
    @Test func everyOrganizationIsBuiltBeforeTheNodeIsReady() async throws {
        for number in 1...5 {
            let organization = try store.createOrganization(name: "Firma \(number)", defaultRegion: "CZ")
            try store.addUser(login: "user\(number)", password: "hesloUser\(number)", organizationID: organization.id)
            let csv = Array("lastName;phone1\nKontakt \(number);+420 601 000 00\(number)\n".utf8)
            _ = try store.importContacts(csv: csv, organizationID: organization.id, validator: PhoneNumberValidator())
        }
        let node = CallerNode(configuration: ServiceConfiguration(), store: store)
        let app = node.application()
        try await withFollower(node) {
            try await app.test(.router) { client in
                _ = try await eventually("the node is ready") { try await status(client, "/health") == .ok }
                for number in 1...5 {
                    let headers: HTTPFields = [.authorization: ServiceFixture.basic("user\(number)", "hesloUser\(number)")]
                    for other in 1...5 {
                        let response = try await client.execute(uri: "/v3/contacts/lookup/60100000\(other)", method: .get, headers: headers)
                        #expect(response.status == (other == number ? .ok : .notFound), "user\(number) looking up \(other)")
                    }
                }
            }
        }
    }

    @Test func healthSaysLoadingAndLookupsWaitUntilEveryIndexIsBuilt() async throws {
        _ = try store.importContacts(csv: Fixtures.maximalCSV, organizationID: try ipexID(), validator: PhoneNumberValidator())
        let node = CallerNode(configuration: ServiceConfiguration(), store: store)
        let follower = node.follower(interval: .milliseconds(20))
        let app = node.application()
        try await app.test(.router) { client in
            // The follower exists but has not built anything: nothing is built inside a request.
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).hasPrefix(#"{"status":"loading""#))
                #expect(response.headers[.retryAfter] == "1")
            }
            #expect(try await status(client, "/v3/contacts/lookup/222333444") == .serviceUnavailable)
            let running = Task { try await follower.run() }
            _ = try await eventually("the node is ready") { try await status(client, "/health") == .ok }
            #expect(try await status(client, "/v3/contacts/lookup/222333444") == .ok)
            running.cancel()
            _ = try? await running.value
        }
    }
}

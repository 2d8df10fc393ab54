import PhoneNumbers
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import CallerService
@testable import SQLiteEngine
import StoreContract

/// Issue 18, part 4 (on the SQLite engine): a store that cannot be written just now — another
/// process holds its write lock past the busy timeout — answers writes 503 with `Retry-After` and
/// a message, keeps answering lookups from memory, changes nothing, and recovers by itself; a store
/// newer than this build is refused.
@Suite struct StoreUnavailableTests {
    /// The end of `/health`: the number plan it runs with.
    static var plan: String {
        #""numberPlan":"\#(NumberPlanFile.current.version)","numberPlanFingerprint":"\#(NumberPlanFile.current.fingerprint)"}"#
    }

    @Test func writesAnswer503WhileAnotherProcessHoldsTheStoreAndRecover() async throws {
        let directory = TemporaryDirectory()
        let store = try SQLiteStore(directory: directory.path, busyTimeoutMilliseconds: 100)
        let ipex = try store.createOrganization(name: "IPEX", defaultRegion: "CZ")
        try store.addUser(login: "novak", password: "hesloNovak", organizationID: ipex.id)
        _ = try store.importContacts(csv: Fixtures.maximalCSV, organizationID: ipex.id, validator: .init())
        let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak"), .contentType: "application/json"]
        let body = ByteBuffer(string: #"{"lastName":"Nová","phone1":"+420601987654"}"#)
        try await buildApplication(configuration: ServiceConfiguration(), store: store).test(.router) { client in
            #expect(try await client.execute(uri: "/v3/contacts/lookup/222333444", method: .get, headers: novak).status == .ok)
            // What a CLI import in another process does: it holds the write lock.
            let other = try SQLiteDatabase(path: store.path, busyTimeoutMilliseconds: 100)
            try other.execute("BEGIN IMMEDIATE")
            let refused = try await client.execute(uri: "/v3/contacts", method: .post, headers: novak, body: body)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "5")
            #expect(String(buffer: refused.body).contains("nothing was changed"))
            var form = novak
            form[.contentType] = "multipart/form-data; boundary=XyZ"
            let upload = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nlastName;phone1\r\nDvořák;+420 777 111 222\r\n\r\n--XyZ--\r\n"
            let uploadRefused = try await client.execute(uri: "/v3/contacts/upload", method: .post, headers: form, body: ByteBuffer(string: upload))
            #expect(uploadRefused.status == .serviceUnavailable && uploadRefused.headers[.retryAfter] == "5")
            #expect(String(buffer: uploadRefused.body).contains(#""message":"rejected""#))
            // Lookups answer from memory meanwhile.
            #expect(try await client.execute(uri: "/v3/contacts/lookup/222333444", method: .get, headers: novak).status == .ok)
            try other.execute("ROLLBACK")
            // Nothing was changed, and the same requests succeed now.
            #expect(try await client.execute(uri: "/v3/contacts/lookup/601987654", method: .get, headers: novak).status == .notFound)
            #expect(try await client.execute(uri: "/v3/contacts", method: .post, headers: novak, body: body).status == .created)
            #expect(try await client.execute(uri: "/v3/contacts/lookup/601987654", method: .get, headers: novak).status == .ok)
        }
    }

    /// `/health` says what the follower last learned of the store, and stays 200: the node still
    /// answers lookups.
    @Test func healthReportsAnUnreachableStoreAndStaysReady() async throws {
        struct DiskFailed: Error, CustomStringConvertible { var description: String { "disk I/O error" } }
        let fixture = try ServiceFixture()
        let node = CallerNode(configuration: ServiceConfiguration(), store: fixture.store)
        try await node.application().test(.router) { client in
            let ok = try await client.execute(uri: "/health", method: .get)
            #expect(ok.status == .ok && String(buffer: ok.body) == #"{"status":"ok","store":"ok","# + Self.plan)
            node.state.storeProblem.record(DiskFailed())
            let unreachable = try await client.execute(uri: "/health", method: .get)
            #expect(unreachable.status == .ok)
            #expect(String(buffer: unreachable.body) == #"{"status":"ok","store":"unreachable","storeError":"disk I/O error","# + Self.plan)
            node.state.storeProblem.record(nil)
            #expect(String(buffer: try await client.execute(uri: "/health", method: .get).body).contains(#""store":"ok""#))
        }
    }

    @Test func aStoreNewerThanThisBuildIsRefused() throws {
        let directory = TemporaryDirectory()
        let store = try SQLiteStore(directory: directory.path)
        let (version, known) = try store.schemaVersion()
        #expect(version == known && known == Schema.migrations.count)
        let raw = try SQLiteDatabase(path: store.path)
        try raw.execute("PRAGMA user_version = \(known + 1)")
        #expect {
            _ = try SQLiteStore(directory: directory.path)
        } throws: { error in
            "\(error)".contains("newer than this caller-lookup knows")
        }
    }
}

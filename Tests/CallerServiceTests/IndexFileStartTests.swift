import CallerService
import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LookupIndex
import PhoneNumbers
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

/// A node keeps each organization's index in a file (`index.directory`) and starts from it: the
/// file is mapped and used, the change log brings it forward, and a damaged or stale file is
/// rebuilt from the store.
@Suite struct IndexFileStartTests {
    let fixture: ServiceFixture
    var store: SQLiteStore { fixture.store }
    var indexes: String { fixture.directory.path + "/indexes" }

    init() throws {
        fixture = try ServiceFixture()
    }

    func ipexID() throws -> Int64 { try #require(try store.organization(named: "IPEX")).id }

    func contact(_ name: String, _ phone: String) throws -> Contact {
        try Contact.validate([.lastName: name, .phone1: phone], validator: PhoneNumberValidator()).get()
    }

    /// Starts a node with index files on the store, waits until it is ready, runs `body`, stops it.
    func withNode(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var configuration = ServiceConfiguration()
        configuration.indexDirectory = indexes
        let node = CallerNode(configuration: configuration, store: try SQLiteStore(directory: fixture.directory.path))
        let app = node.application()
        let suite = try StoreFollowerTests()
        try await suite.withFollower(node) {
            try await app.test(.router) { client in
                _ = try await suite.eventually("the node is ready") { try await suite.status(client, "/health") == .ok }
                try await body(client)
            }
        }
    }

    func status(_ client: some TestClientProtocol, _ number: String) async throws -> HTTPResponse.Status {
        try await client.execute(uri: "/v3/contacts/lookup/\(number)", method: .get, headers: StoreFollowerTests.novak).status
    }

    func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    /// The file the next start will read, with one contact the store does not have (at the store's
    /// version plus `ahead`): a node that answers it started from the file.
    func forge(_ path: String, ahead: Int64 = 0) throws {
        let organizationID = try ipexID()
        let version = try #require(try store.organization(id: organizationID)).version + ahead
        let forged = StoredContact(id: 999_999, version: version, contact: try contact("Podvržený", "+420 603 999 888"))
        let contacts = try store.allContacts(organizationID: organizationID).contacts + [forged]
        try IndexFile.write(
            IndexSnapshot.build(contacts, version: version), organizationID: organizationID,
            planFingerprint: NumberPlanFile.current.fingerprint, to: path)
    }

    @Test func aNodeWritesItsIndexFileAndTheNextStartUsesItAndCatchesUp() async throws {
        let organizationID = try ipexID()
        _ = try store.importContacts(csv: Fixtures.maximalCSV, organizationID: organizationID, validator: PhoneNumberValidator())
        let path = indexes + "/\(organizationID).index"
        // First start: no file yet; built from the store, then written.
        try await withNode { (client: any TestClientProtocol) async throws in
            _ = try await StoreFollowerTests().eventually("the index file is written") { FileManager.default.fileExists(atPath: path) }
            #expect(try await status(client, "222333444") == .ok)
        }
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600, "the file is the owner's alone")
        #expect(stat(indexes, &info) == 0 && info.st_mode & 0o777 == 0o700)
        let written = try IndexFile.read(from: path)
        #expect(written.snapshot.count == (try store.allContacts(organizationID: organizationID).contacts.count))

        // While the node is down, a contact is added: the next start reads the file and the log.
        _ = try store.create(try contact("Nováček", "+420 604 111 222"), organizationID: organizationID)
        let before = inode(path)
        try await withNode { (client: any TestClientProtocol) async throws in
            #expect(try await status(client, "604111222") == .ok, "caught up from the change log")
            #expect(try await status(client, "222333444") == .ok)
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(inode(path) == before, "started from the file: nothing was rebuilt, nothing written")

        // A file with a contact only it has, at the store's version: answered, so the file is used.
        try forge(path)
        try await withNode { (client: any TestClientProtocol) async throws in
            #expect(try await status(client, "603999888") == .ok, "the node answers from the mapped file")
            #expect(try await status(client, "604111222") == .ok)
        }
    }

    @Test func aDamagedOrStaleFileIsRebuiltFromTheStoreAndWrittenAgain() async throws {
        let organizationID = try ipexID()
        _ = try store.importContacts(csv: Fixtures.maximalCSV, organizationID: organizationID, validator: PhoneNumberValidator())
        let path = indexes + "/\(organizationID).index"
        try FileManager.default.createDirectory(atPath: indexes, withIntermediateDirectories: true)

        // Damaged: one byte changed in the middle.
        try forge(path)
        var bytes = try #require(FileManager.default.contents(atPath: path))
        bytes[bytes.count / 2] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
        try await withNode { (client: any TestClientProtocol) async throws in
            #expect(try await status(client, "603999888") == .notFound, "the damaged file was not used")
            #expect(try await status(client, "222333444") == .ok)
            _ = try await StoreFollowerTests().eventually("a good file is written") { (try? IndexFile.read(from: path)) != nil }
        }
        #expect(try IndexFile.read(from: path).snapshot.count == (try store.allContacts(organizationID: organizationID).contacts.count))

        // Ahead of the store (a store restored from an older backup): not used.
        try forge(path, ahead: 5)
        try await withNode { (client: any TestClientProtocol) async throws in
            #expect(try await status(client, "603999888") == .notFound, "a file ahead of the store is stale")
            #expect(try await status(client, "222333444") == .ok)
        }

        // Another organization's file under this one's name: not used.
        let other = try store.createOrganization(name: "Třetí", defaultRegion: "CZ")
        try store.addUser(login: "treti", password: "hesloTreti", organizationID: other.id)
        try forge(indexes + "/\(other.id).index")
        try await withNode { (client: any TestClientProtocol) async throws in
            let jina: HTTPFields = [.authorization: ServiceFixture.basic("treti", "hesloTreti")]
            #expect(try await client.execute(uri: "/v3/contacts/lookup/603999888", method: .get, headers: jina).status == .notFound)
            #expect(try await status(client, "222333444") == .ok)
        }
    }
}

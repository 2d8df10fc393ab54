import Foundation
import Contacts
@testable import LookupIndex
import PhoneNumbers
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

@Suite struct IndexFollowerTests {
    let directory = TemporaryDirectory()
    let validator = PhoneNumberValidator()

    func contact(_ name: String, _ phone: String) throws -> Contact {
        try Contact.validate([.lastName: name, .phone1: phone], validator: validator).get()
    }

    @Test func followsImportsAndSingleWrites() throws {
        let store = try SQLiteStore(directory: directory.path)
        let organization = try store.createOrganization(name: "IPEX")
        let follower = try IndexFollower(source: StoreChangeSource(store: store, organizationID: organization.id))
        #expect(follower.index.snapshot.count == 0)

        _ = try store.importContacts(csv: Fixtures.maximalCSV, organizationID: organization.id, validator: validator)
        #expect(try follower.catchUp() == 1)
        let shared = PhoneNumber(e164: "+420222333444")!
        #expect(follower.index.snapshot.contacts(withNumber: shared).count == 2)

        let created = try store.create(try contact("Král", "+420777000111"), organizationID: organization.id)
        try store.delete(id: 1, organizationID: organization.id)
        try follower.catchUp()
        let snapshot = follower.index.snapshot
        #expect(snapshot.version == 3)
        #expect(snapshot.ids(snapshot.contacts(withNumber: shared)) == [2])
        #expect(snapshot.ids(snapshot.contacts(withNumber: created.contact.phone1)) == [created.id])
        #expect(snapshot.allContacts() == (try store.allContacts(organizationID: organization.id).contacts))
    }

    @Test func compactsAfterManyDeltasAndStaysEqualToTheStore() throws {
        let store = try SQLiteStore(directory: directory.path)
        let organization = try store.createOrganization(name: "IPEX")
        let follower = try IndexFollower(source: StoreChangeSource(store: store, organizationID: organization.id))
        for number in 0..<1_100 {
            _ = try store.create(try contact("N\(number)", "+420777\(String(100_000 + number))"), organizationID: organization.id)
            if number % 100 == 0 { try follower.catchUp() }
        }
        try follower.catchUp()
        #expect(follower.index.snapshot.overlaySize < 1_100, "the overlay was merged into the base")
        #expect(follower.index.snapshot.allContacts() == (try store.allContacts(organizationID: organization.id).contacts))
    }

    /// An import larger than a batch limit arrives as one batch (whole transactions) and is merged
    /// into a new base before it is published: no overlay, equal to the store.
    @Test func aLargeImportIsMergedBeforeItIsPublished() throws {
        let store = try SQLiteStore(directory: directory.path)
        let organization = try store.createOrganization(name: "IPEX")
        let follower = try IndexFollower(source: StoreChangeSource(store: store, organizationID: organization.id))
        let contacts = try (0..<(IndexFollower.batchLimit * 2 + 500)).map { number in
            try contact("N\(number)", "+420777\(String(100_000 + number))")
        }
        _ = try store.replaceAll(organizationID: organization.id, with: contacts)
        try follower.catchUp()
        #expect(follower.index.snapshot.overlaySize == 0, "merged before it was published")
        #expect(follower.index.snapshot.count == contacts.count)
        #expect(follower.index.snapshot.allContacts() == (try store.allContacts(organizationID: organization.id).contacts))
    }

    /// More pending changes than a compaction takes (a replace-all import) are not replayed: the
    /// index is built from a streamed full load. A few changes are replayed as deltas.
    @Test func aChangeSetLargerThanACompactionIsBuiltFromAStreamedFullLoad() throws {
        final class Recording: ChangeSource, @unchecked Sendable {
            let inner: StoreChangeSource
            let lock = NSLock()
            var wholeLoads = 0, streamedLoads = 0, changeReads = 0
            init(_ inner: StoreChangeSource) { self.inner = inner }
            func count(_ counter: ReferenceWritableKeyPath<Recording, Int>) {
                lock.lock()
                self[keyPath: counter] += 1
                lock.unlock()
            }
            func loadAll() throws -> FullLoad {
                count(\.wholeLoads)
                return try inner.loadAll()
            }
            func loadAll(each body: (StoredContact) throws -> Void) throws -> FullLoadHead {
                count(\.streamedLoads)
                return try inner.loadAll(each: body)
            }
            func changes(after version: Int64, limit: Int) throws -> ChangeBatch {
                count(\.changeReads)
                return try inner.changes(after: version, limit: limit)
            }
            func hasChanges(moreThan count: Int, after version: Int64) throws -> Bool? {
                try inner.hasChanges(moreThan: count, after: version)
            }
        }
        let store = try SQLiteStore(directory: directory.path)
        let organization = try store.createOrganization(name: "IPEX")
        let source = Recording(StoreChangeSource(store: store, organizationID: organization.id))
        let follower = try IndexFollower(source: source)
        #expect(source.streamedLoads == 1 && source.wholeLoads == 0)
        let contacts = try (0..<1_500).map { try contact("N\($0)", "+420777\(String(100_000 + $0))") }
        _ = try store.replaceAll(organizationID: organization.id, with: contacts)
        let (version, rebuilt) = try follower.catchUpReportingRebuilds()
        #expect(try rebuilt && version == store.organization(id: organization.id)?.version)
        #expect(source.streamedLoads == 2 && source.changeReads == 0, "built from a full load, nothing replayed")
        #expect(follower.index.snapshot.allContacts() == (try store.allContacts(organizationID: organization.id).contacts))

        _ = try store.create(try contact("Král", "+420777999111"), organizationID: organization.id)
        #expect(try follower.catchUpReportingRebuilds().rebuilt == false)
        #expect(source.streamedLoads == 2 && source.changeReads >= 1, "a few changes are replayed")
        #expect(follower.index.snapshot.count == 1_501)
        #expect(try store.hasChanges(organizationID: organization.id, moreThan: 1_500, after: 0))
        #expect(try !store.hasChanges(organizationID: organization.id, moreThan: 1_501, after: 0))
    }

    /// The index built in memory gives way to the same index mapped from its file, unless a
    /// change was published first.
    @Test func aMappedCopyReplacesTheIndexOnlyWhileNothingChanged() throws {
        let store = try SQLiteStore(directory: directory.path)
        let organization = try store.createOrganization(name: "IPEX")
        _ = try store.importContacts(csv: Fixtures.maximalCSV, organizationID: organization.id, validator: validator)
        let follower = try IndexFollower(source: StoreChangeSource(store: store, organizationID: organization.id))
        let built = follower.index.snapshot
        let path = directory.path + "/1.index"
        try IndexFile.write(built, organizationID: organization.id, planFingerprint: "p", to: path)
        let mapped = try IndexFile.read(from: path).snapshot
        #expect(follower.republish(mapped, replacing: built))
        #expect(follower.index.snapshot === mapped && mapped.base.arena.isMapped)
        #expect(mapped.allContacts() == built.allContacts())
        #expect(!follower.republish(built, replacing: built), "the published one is no longer `built`")
        _ = try store.create(try contact("Král", "+420777000111"), organizationID: organization.id)
        try follower.catchUp()
        #expect(!follower.republish(mapped, replacing: mapped), "a change came first")
        #expect(follower.index.snapshot.count == built.count + 1)
    }

    @Test func rebuildsOnResync() throws {
        let store = try SQLiteStore(directory: directory.path)
        let organization = try store.createOrganization(name: "IPEX")
        _ = try store.create(try contact("A", "+420777000111"), organizationID: organization.id)
        struct Forgetful: ChangeSource {
            let inner: StoreChangeSource
            func loadAll() throws -> FullLoad { try inner.loadAll() }
            func changes(after version: Int64, limit: Int) throws -> ChangeBatch {
                ChangeBatch(changes: [], version: 0, resync: true)
            }
        }
        let source = StoreChangeSource(store: store, organizationID: organization.id)
        let follower = try IndexFollower(source: Forgetful(inner: source))
        _ = try store.create(try contact("B", "+420777000112"), organizationID: organization.id)
        #expect(try follower.catchUp() == 2)
        #expect(follower.index.snapshot.count == 2)
    }
}

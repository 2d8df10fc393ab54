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

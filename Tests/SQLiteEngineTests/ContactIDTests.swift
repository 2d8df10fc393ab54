import Contacts
import Foundation
import PhoneNumbers
import TestSupport
import Testing

@testable import SQLiteEngine
import StoreContract

/// Issue 15, 8: contact ids count per organization, so one tenant's ids say nothing about another's
/// writes; a store from before keeps its ids and counts on above them.
@Suite struct ContactIDTests {
    let validator = PhoneNumberValidator()

    func contact(_ name: String, _ phone: String) throws -> Contact {
        try Contact.validate([.lastName: name, .phone1: phone], validator: validator).get()
    }

    @Test func aSecondOrganizationsIdsRevealNothingOfTheFirsts() throws {
        let directory = TemporaryDirectory()
        let store = try SQLiteStore(directory: directory.path)
        let first = try store.createOrganization(name: "First", defaultRegion: "CZ")
        let second = try store.createOrganization(name: "Second", defaultRegion: "CZ")
        var ids: [Int64] = []
        for round in 0..<5 {
            // The first organization writes a lot between the second's writes.
            for index in 0..<20 {
                let created = try store.create(try contact("F\(round)-\(index)", "+420601\(round)\(String(format: "%05d", index))"), organizationID: first.id)
                if index % 3 == 0 { try store.delete(id: created.id, organizationID: first.id) }
            }
            _ = try store.importContacts(
                csv: Array("lastName;phone1\nBulk \(round);+420 602 000 00\(round)\n".utf8), organizationID: first.id, validator: validator)
            ids.append(try store.create(try contact("S\(round)", "+42060300000\(round)"), organizationID: second.id).id)
        }
        #expect(ids == [1, 2, 3, 4, 5])
        // A deleted id is not given out again.
        try store.delete(id: 5, organizationID: second.id)
        #expect(try store.create(try contact("S5", "+420603000005"), organizationID: second.id).id == 6)
        // Ids are per organization: the first's id 1 is not the second's.
        #expect(try store.contact(id: 1, organizationID: second.id)?.contact[.lastName] == "S0")
        #expect(try store.contact(id: 1, organizationID: first.id)?.contact[.lastName] != "S0")
        // The feed names the second organization's contacts by its own ids.
        let feed = try store.changes(organizationID: second.id, after: 0)
        let named = feed.changes.compactMap { change -> Int64? in
            if case .upsert(let stored) = change { return stored.id } else { return nil }
        }
        #expect(named == [1, 2, 3, 4, 6])
    }

    @Test func aStoreFromBeforeKeepsItsIdsAndCountsAboveThem() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/caller-lookup.sqlite"
        // The schema before per-organization ids, with global ids interleaved between two
        // organizations and a deleted contact in the change log.
        do {
            let database = try SQLiteDatabase(path: path)
            for sql in Schema.migrations.prefix(5) { try database.execute(sql) }
            try database.execute("PRAGMA user_version = 5")
            try database.execute("INSERT INTO organizations (id, name, default_region, version) VALUES (1, 'A', 'CZ', 3), (2, 'B', 'CZ', 2)")
            try database.execute(
                """
                INSERT INTO contacts (id, organization_id, version, "lastName", "phone1") VALUES
                    (1, 1, 1, 'A one', '+420601000001'), (2, 2, 1, 'B two', '+420601000002'),
                    (3, 1, 2, 'A three', '+420601000003'), (4, 2, 2, 'B four', '+420601000004');
                INSERT INTO changes (organization_id, version, contact_id, op) VALUES
                    (1, 1, 1, 'upsert'), (2, 1, 2, 'upsert'), (1, 2, 3, 'upsert'), (2, 2, 4, 'upsert'), (1, 3, 5, 'delete');
                """)
        }
        // Made by hand under the test process's umask: the owner's alone, as a store must be.
        #expect(chmod(path, 0o600) == 0)
        let store = try SQLiteStore(directory: directory.path)
        let a = try #require(try store.organization(named: "A"))
        let b = try #require(try store.organization(named: "B"))
        #expect(try store.fullLoad(organizationID: a.id).contacts.map(\.id) == [1, 3])
        #expect(try store.fullLoad(organizationID: b.id).contacts.map(\.id) == [2, 4])
        #expect(try store.contact(id: 3, organizationID: a.id)?.contact[.lastName] == "A three")
        // Above every id the organization used, the deleted 5 included.
        #expect(try store.create(try contact("A new", "+420601000009"), organizationID: a.id).id == 6)
        #expect(try store.create(try contact("B new", "+420601000008"), organizationID: b.id).id == 5)
        #expect(try store.changes(organizationID: a.id, after: 2).changes.count == 2)
    }
}

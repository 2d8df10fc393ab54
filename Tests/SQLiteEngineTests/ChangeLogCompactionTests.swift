import Contacts
import Foundation
import PhoneNumbers
@testable import SQLiteEngine
import StoreContract
import TestSupport
import Testing

/// The change log stays about as large as the organization (issue 8's soak: 200 uploads must not
/// grow the database without bound), and a follower behind the compaction point is told to resync.
@Suite struct ChangeLogCompactionTests {
    let directory = TemporaryDirectory()
    let validator = PhoneNumberValidator()
    let store: SQLiteStore
    let organization: Organization

    init() throws {
        store = try SQLiteStore(directory: directory.path)
        organization = try store.createOrganization(name: "IPEX", defaultRegion: "CZ")
    }

    @discardableResult
    func importRows(_ rows: [String], header: String = "lastName;phone1;externalId") throws -> Int64 {
        let csv = ([header] + rows).joined(separator: "\n") + "\n"
        return try store.importContacts(csv: Array(csv.utf8), organizationID: organization.id, validator: validator).version
    }

    /// The raw log: (op, count) per op.
    func logEntries() throws -> (upserts: Int, deletes: Int) {
        let database = try SQLiteDatabase(path: store.path)
        let statement = try database.statement(
            "SELECT count(*) FILTER (WHERE op = 'upsert'), count(*) FILTER (WHERE op = 'delete') FROM changes WHERE organization_id = ?")
        statement.bind(1, organization.id)
        _ = try statement.step()
        return (Int(statement.int64(0)), Int(statement.int64(1)))
    }

    /// The set a follower gets by replaying the whole log from 0: the latest entry of each contact.
    func replayedFromZero() throws -> Set<Int64> {
        let database = try SQLiteDatabase(path: store.path)
        let statement = try database.statement(
            "SELECT contact_id, op, max(version) FROM changes WHERE organization_id = ? GROUP BY contact_id")
        statement.bind(1, organization.id)
        var live: Set<Int64> = []
        while try statement.step() {
            if statement.string(1) == "upsert" { live.insert(statement.int64(0)) }
        }
        return live
    }

    func liveIDs() throws -> Set<Int64> {
        Set(try store.allContacts(organizationID: organization.id).contacts.map(\.id))
    }

    @Test func reimportsDoNotGrowTheLog() throws {
        for round in 1...30 {
            try importRows((1...50).map { "Round \(round) \($0);+420222\(333_000 + $0);crm-\($0)" })
        }
        // 30 imports updated all 50 contacts each time: 1,500 upserts were logged, 50 remain.
        #expect(try logEntries() == (50, 0))
        #expect(try replayedFromZero() == liveIDs())
        // Nothing a follower needs was dropped: the log still starts at 0.
        let batch = try store.changes(organizationID: organization.id, after: 0)
        #expect(!batch.resync)
        #expect(batch.changes.count == 50)
    }

    @Test func restWritesAreCompactedToo() throws {
        let first = try store.create(
            try Contact.validate([.lastName: "A", .phone1: "+420222333444"], validator: validator).get(), organizationID: organization.id)
        for round in 1...1_100 {
            _ = try store.update(id: first.id, organizationID: organization.id) { _ in
                try Contact.validate([.lastName: "A \(round)", .phone1: "+420222333444"], validator: self.validator).get()
            }
        }
        // Compacted at versions 512 and 1,024: what is left is the 77 updates since, at most.
        let entries = try logEntries()
        #expect(entries.upserts <= 1_101 - 1_024 + 1)
        #expect(try replayedFromZero() == liveIDs())
        #expect(try store.changes(organizationID: organization.id, after: 0).changes.count == 1)
    }

    @Test func followersBehindTheCompactionPointResync() throws {
        // Contacts without externalId: each import with other values deletes the old ones.
        let v1 = try importRows(["A1;+420222333441", "A2;+420222333442", "A3;+420222333443"], header: "lastName;phone1")
        let v2 = try importRows(["B1;+420222333441", "B2;+420222333442", "B3;+420222333443"], header: "lastName;phone1")
        let v3 = try importRows(["C1;+420222333441", "C2;+420222333442", "C3;+420222333443"], header: "lastName;phone1")
        let v4 = try importRows(["D1;+420222333441", "D2;+420222333442", "D3;+420222333443"], header: "lastName;phone1")
        #expect(try logEntries() == (3, 9))
        #expect(try store.changes(organizationID: organization.id, after: v1).resync == false)

        // Keep as many deletes as there are live contacts (3): those of v4; v2's and v3's go.
        let (dropped, logStart) = try store.compactChangeLog(organizationID: organization.id, keepingDeletes: 0)
        #expect(dropped == 6)
        #expect(logStart == v3)
        #expect(try logEntries() == (3, 3))
        for behind in [0, v1, v2] {
            let batch = try store.changes(organizationID: organization.id, after: behind)
            #expect(batch.resync, "a follower at \(behind) must load everything again")
            #expect(batch.version == v4)
        }
        // A follower at the compaction point or later still follows the log.
        let batch = try store.changes(organizationID: organization.id, after: v3)
        #expect(!batch.resync)
        #expect(batch.changes.count == 6)
        #expect(try store.changes(organizationID: organization.id, after: v4).changes.isEmpty)
        #expect(try replayedFromZero() == liveIDs())
        // Compacting again changes nothing; the log start never moves back.
        #expect(try store.compactChangeLog(organizationID: organization.id, keepingDeletes: 0) == (0, v3))
    }

    /// An index follower that was behind the compaction point rebuilds from a full load and ends
    /// with exactly the live set.
    @Test func aFollowerBehindRebuildsToTheLiveSet() throws {
        let v1 = try importRows(["A1;+420222333441", "A2;+420222333442"], header: "lastName;phone1")
        try importRows(["B1;+420222333441", "B2;+420222333442"], header: "lastName;phone1")
        try importRows(["C1;+420222333441", "C2;+420222333442"], header: "lastName;phone1")
        try store.compactChangeLog(organizationID: organization.id, keepingDeletes: 0)
        let source = StoreChangeSource(store: store, organizationID: organization.id)
        let batch = try source.changes(after: v1, limit: 10_000)
        #expect(batch.resync)
        let full = try source.loadAll()
        #expect(Set(full.contacts.map(\.contact.displayName)) == ["C1", "C2"])
        #expect(full.version == batch.version)
    }
}

/// The WAL is checkpointed back into the database as the store writes: it stays bounded however
/// many imports run (before the fix a statement left holding a row at COMMIT kept the old read
/// snapshot, so no checkpoint ever copied anything and the WAL grew by every import's size).
@Suite struct WriteAheadLogTests {
    @Test func importsDoNotGrowTheWAL() throws {
        let directory = TemporaryDirectory()
        let store = try SQLiteStore(directory: directory.path)
        let organization = try store.createOrganization(name: "IPEX", defaultRegion: "CZ")
        var files: [[UInt8]] = []
        for seed in [1, 2] as [UInt64] {
            var generator = ContactGenerator(seed: seed)
            var text = ""
            generator.csv(rows: 3_000) { text += $0 }
            files.append(Array(text.utf8))
        }
        var sizes: [(database: Int, wal: Int)] = []
        for round in 0..<12 {
            _ = try store.importContacts(csv: files[round % 2], organizationID: organization.id, validator: PhoneNumberValidator())
            let attributes = { (path: String) in (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
            sizes.append((attributes(store.path), attributes(store.path + "-wal")))
        }
        // Twelve imports of 3,000 rows write about 10 MB of pages: the checkpoint copied them into
        // the database, and the WAL was reused from its start rather than appended to.
        #expect(sizes.last!.database > 500_000, "\(sizes)")
        #expect(sizes.last!.wal < 8_000_000, "\(sizes)")
    }
}

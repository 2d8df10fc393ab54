import Contacts
import Foundation
import PhoneNumbers
import PostgresEngine
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

/// Sync sources, their runs and their claims, and imports through a mapping, on both engines.
@Suite struct SyncStoreContractTests {
    let validator = PhoneNumberValidator()

    static let definition = SyncDefinition(
        url: "https://crm.example.com/export.csv", everySeconds: 900,
        headers: [.init(name: "Authorization", value: "Bearer secret")], mapping: ["lastName": "Surname", "phone1": "Mobile"])

    @Test(arguments: Engine.available)
    func sourcesRunsAndClaims(engine: Engine) async throws {
        try await engine.withStore { store, organization in
            let id = organization.id
            let source = try await store.addSyncSource(Self.definition, organizationID: id)
            #expect(try await store.syncSources(organizationID: id).map(\.definition) == [Self.definition])
            #expect(try await store.syncSources(organizationID: nil).contains { $0.id == source.id })
            await #expect(throws: ContactStoreError.self) { try await store.removeSyncSource(id: source.id, organizationID: id + 1_000) }

            // A slot is claimed once; a lease keeps everyone else out until it ends or is released.
            let claimed = try await store.claimSyncSource(id: source.id, organizationID: id, holder: "a", now: 100, leaseUntil: 200, slot: 7)
            #expect(claimed?.definition == Self.definition)
            #expect(try await store.claimSyncSource(id: source.id, organizationID: id, holder: "b", now: 150, leaseUntil: 250, slot: 8) == nil)
            #expect(try await store.claimSyncSource(id: source.id, organizationID: id, holder: "b", now: 150, leaseUntil: 250, slot: nil) == nil)
            var run = SyncRun(sourceID: source.id, started: 100, finished: 101, trigger: .schedule, outcome: .success)
            run.imported = 3
            let runID = try await store.finishSyncRun(
                run, organizationID: id, holder: "a", validators: SyncValidators(etag: "\"v1\"", lastModified: "Sat, 05 Dec 2026 03:00:00 GMT"))
            #expect(runID != nil)
            #expect(try await store.claimSyncSource(id: source.id, organizationID: id, holder: "b", now: 150, leaseUntil: 250, slot: 7) == nil,
                    "slot 7 has run")
            let next = try await store.claimSyncSource(id: source.id, organizationID: id, holder: "b", now: 150, leaseUntil: 250, slot: 8)
            #expect(next?.etag == "\"v1\"" && next?.lastModified == "Sat, 05 Dec 2026 03:00:00 GMT")
            // A holder that died: its lease runs out, and the next slot is anyone's.
            #expect(try await store.claimSyncSource(id: source.id, organizationID: id, holder: "c", now: 249, leaseUntil: 400, slot: 9) == nil)
            #expect(try await store.claimSyncSource(id: source.id, organizationID: id, holder: "c", now: 251, leaseUntil: 400, slot: 9) != nil)
            // Only the holder's finish ends its lease.
            try await store.finishSyncRun(run, organizationID: id, holder: "b", validators: nil)
            #expect(try await store.claimSyncSource(id: source.id, organizationID: id, holder: "d", now: 300, leaseUntil: 500, slot: nil) == nil)
            try await store.finishSyncRun(run, organizationID: id, holder: "c", validators: nil)
            #expect(try await store.syncSources(organizationID: id).first?.etag == "\"v1\"", "a finish without validators keeps the last ones")

            for _ in 0..<(SyncRun.kept + 5) { try await store.finishSyncRun(run, organizationID: id, holder: "x", validators: nil) }
            let runs = try await store.syncRuns(sourceID: source.id, organizationID: id, limit: 100)
            #expect(runs.count == SyncRun.kept && runs.first!.id > runs.last!.id && runs.first?.imported == 3)
            #expect(try await store.syncRuns(sourceID: source.id, organizationID: id + 1_000, limit: 100).isEmpty)

            try await store.removeSyncSource(id: source.id, organizationID: id)
            #expect(try await store.syncSources(organizationID: id).isEmpty)
            #expect(try await store.finishSyncRun(run, organizationID: id, holder: "c", validators: nil) == nil, "a removed source keeps nothing")
            #expect(try await store.syncRuns(sourceID: source.id, organizationID: id, limit: 100).isEmpty)
        }
    }

    @Test(arguments: Engine.available)
    func importsThroughAMappingWithALimitOnDeletes(engine: Engine) async throws {
        try await engine.withStore { store, organization in
            let id = organization.id
            let rows = (0..<10).map { "x,Person \($0),\(601_300_000 + $0)" }
            func export(_ rows: [String]) -> ImportSource {
                let bytes = Array((["Id,Surname,Mobile"] + rows).joined(separator: "\n").utf8)
                return ImportSource(mapping: ImportMapping(columns: [.lastName: "surname", .phone1: " Mobile "], region: "CZ")) {
                    CSVReader(bytes, separator: CSVReader.detectSeparator(bytes))
                }
            }
            let guarded = ImportOptions(maxDeletePercent: 50)
            let first = try await store.importContacts(export(rows), organizationID: id, validator: validator, options: guarded)
            #expect(first.created == 10)
            #expect(try await store.fullLoad(organizationID: id).contacts.first?.contact[.phone1] == "+420601300000")
            await #expect {
                _ = try await store.importContacts(export(Array(rows.prefix(4))), organizationID: id, validator: validator, options: guarded)
            } throws: { error in
                (error as? ImportRejection)?.message.contains("would delete 6 of the organization's 10 contacts") == true
            }
            #expect(try await store.fullLoad(organizationID: id).contacts.count == 10)
            #expect(try await store.organization(id: id)?.version == 1)
            let half = try await store.importContacts(export(Array(rows.prefix(5))), organizationID: id, validator: validator, options: guarded)
            #expect(half.deleted == 5, "exactly the limit is allowed")
        }
    }
}

/// Two nodes on one PostgreSQL server claim one source's slot at once: exactly one wins.
@Suite(.enabled(if: postgresURL != nil, "set CALLER_LOOKUP_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct PostgresSyncClaimTests {
    @Test func oneNodeRunsEachSlot() async throws {
        let url = try #require(postgresURL)
        let (a, b) = (try PostgresStore(url: url, patience: .seconds(30)), try PostgresStore(url: url, patience: .seconds(30)))
        try await withThrowingTaskGroup(of: Void.self) { pools in
            pools.addTask { await a.run() }
            pools.addTask { await b.run() }
            defer { pools.cancelAll() }
            try await a.migrate()
            let organization = try await a.createOrganization(name: "sync-claims-\(UUID().uuidString.prefix(8))")
            let source = try await a.addSyncSource(SyncStoreContractTests.definition, organizationID: organization.id)
            for slot in Int64(1)...3 {
                let winners = try await withThrowingTaskGroup(of: Bool.self) { claims in
                    for index in 0..<20 {
                        let node = index % 2 == 0 ? a : b
                        claims.addTask {
                            try await node.claimSyncSource(
                                id: source.id, organizationID: organization.id, holder: "node-\(index % 2)-\(index)", now: Double(slot * 1_000),
                                leaseUntil: Double(slot * 1_000 + 500), slot: slot) != nil
                        }
                    }
                    return try await claims.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
                #expect(winners == 1, "slot \(slot)")
            }
        }
    }
}

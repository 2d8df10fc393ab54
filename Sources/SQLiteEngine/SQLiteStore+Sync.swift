import Foundation
public import StoreContract

/// CRM sync sources and their runs in the SQLite store.
extension SQLiteStore {
    static let selectSyncSource = "SELECT id, organization_id, definition, etag, last_modified, created_at FROM sync_sources"

    public func syncSources(organizationID: Int64?) throws -> [SyncSource] {
        try withReader { database in
            let statement = try database.statement(
                Self.selectSyncSource + " WHERE ?1 IS NULL OR organization_id = ?1 ORDER BY id")
            statement.binding([organizationID.map { .integer($0) } ?? .null])
            var sources: [SyncSource] = []
            while try statement.step() { sources.append(try Self.syncSource(from: statement)) }
            return sources
        }
    }

    public func addSyncSource(_ definition: SyncDefinition, organizationID: Int64) throws -> SyncSource {
        let created = Int64(Date().timeIntervalSince1970)
        let id: Int64 = try withDatabase { database in
            try database.transaction {
                guard try organization(id: organizationID, in: database) != nil else {
                    throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.")
                }
                try database.statement("INSERT INTO sync_sources (organization_id, definition, created_at) VALUES (?, ?, ?)")
                    .binding([.integer(organizationID), .text(SyncStorage.encode(definition)), .integer(created)]).run()
                return database.lastInsertRowID
            }
        }
        return SyncSource(id: id, organizationID: organizationID, definition: definition, etag: nil, lastModified: nil, created: created)
    }

    public func removeSyncSource(id: Int64, organizationID: Int64) throws {
        try withDatabase { database in
            try database.statement("DELETE FROM sync_sources WHERE id = ? AND organization_id = ?")
                .binding([.integer(id), .integer(organizationID)]).run()
            guard database.changes > 0 else {
                throw ContactStoreError(.notFound, "The organization has no sync source \(id).")
            }
        }
    }

    public func claimSyncSource(
        id: Int64, organizationID: Int64, holder: String, now: Double, leaseUntil: Double, slot: Int64?
    ) throws -> SyncSource? {
        try withDatabase { database in
            let statement = try database.statement("""
                UPDATE sync_sources SET lease_holder = ?1, lease_until = ?2, last_slot = coalesce(?3, last_slot)
                WHERE id = ?4 AND organization_id = ?5 AND (lease_until IS NULL OR lease_until < ?6)
                  AND (?3 IS NULL OR last_slot < ?3)
                RETURNING id, organization_id, definition, etag, last_modified, created_at
                """)
            statement.binding([
                .text(holder), .real(leaseUntil), slot.map { .integer($0) } ?? .null, .integer(id), .integer(organizationID), .real(now),
            ])
            guard try statement.step() else { return nil }
            let source = try Self.syncSource(from: statement)
            statement.reset()
            return source
        }
    }

    @discardableResult
    public func finishSyncRun(_ run: SyncRun, organizationID: Int64, holder: String, validators: SyncValidators?) throws -> Int64? {
        try withDatabase { database in
            try database.transaction {
                let owned = try database.statement("SELECT 1 FROM sync_sources WHERE id = ? AND organization_id = ?")
                owned.binding([.integer(run.sourceID), .integer(organizationID)])
                let exists = try owned.step()
                owned.reset()
                guard exists else { return nil }
                try database.statement("""
                    UPDATE sync_sources SET lease_holder = NULL, lease_until = NULL WHERE id = ? AND lease_holder = ?
                    """).binding([.integer(run.sourceID), .text(holder)]).run()
                if let validators {
                    try database.statement("UPDATE sync_sources SET etag = ?, last_modified = ? WHERE id = ?")
                        .binding([validators.etag.map { .text($0) } ?? .null, validators.lastModified.map { .text($0) } ?? .null,
                                  .integer(run.sourceID)]).run()
                }
                try database.statement("INSERT INTO sync_runs (source_id, run) VALUES (?, ?)")
                    .binding([.integer(run.sourceID), .text(SyncStorage.encode(run))]).run()
                let id = database.lastInsertRowID
                try database.statement("""
                    DELETE FROM sync_runs WHERE source_id = ?1 AND id <= (SELECT id FROM sync_runs WHERE source_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)
                    """).binding([.integer(run.sourceID), .integer(Int64(SyncRun.kept))]).run()
                return id
            }
        }
    }

    public func syncRuns(sourceID: Int64, organizationID: Int64, limit: Int) throws -> [SyncRun] {
        try withReader { database in
            let statement = try database.statement("""
                SELECT r.id, r.run FROM sync_runs r JOIN sync_sources s ON s.id = r.source_id
                WHERE r.source_id = ? AND s.organization_id = ? ORDER BY r.id DESC LIMIT ?
                """)
            statement.binding([.integer(sourceID), .integer(organizationID), .integer(Int64(limit))])
            var runs: [SyncRun] = []
            while try statement.step() { runs.append(try SyncStorage.run(statement.string(1), id: statement.int64(0))) }
            return runs
        }
    }

    private static func syncSource(from statement: SQLiteStatement) throws -> SyncSource {
        SyncSource(
            id: statement.int64(0), organizationID: statement.int64(1), definition: try SyncStorage.definition(statement.string(2)),
            etag: statement.isNull(3) ? nil : statement.string(3), lastModified: statement.isNull(4) ? nil : statement.string(4),
            created: statement.int64(5))
    }
}

import Foundation
import Logging
import PostgresNIO
public import StoreContract

/// CRM sync sources and their runs on PostgreSQL: the SQLite store's rows and rules, the claim
/// one `UPDATE … RETURNING`, so of several nodes exactly one runs a source at a time.
extension PostgresStore {
    static let selectSyncSource = "SELECT id, organization_id, definition, etag, last_modified, created_at FROM sync_sources"

    public func syncSources(organizationID: Int64?) async throws -> [SyncSource] {
        var binds = PostgresBindings()
        binds.append(organizationID)
        return try await rows(PostgresQuery(
            unsafeSQL: Self.selectSyncSource + " WHERE $1::bigint IS NULL OR organization_id = $1 ORDER BY id", binds: binds
        )) { try Self.syncSource($0) }
    }

    public func addSyncSource(_ definition: SyncDefinition, organizationID: Int64) async throws -> SyncSource {
        let created = Int64(Date().timeIntervalSince1970)
        let text = SyncStorage.encode(definition)
        let logger = self.logger
        let id: Int64 = try await withConnection { connection in
            var id: Int64?
            do {
                for try await row in try await connection.query("""
                    INSERT INTO sync_sources (organization_id, definition, created_at) VALUES (\(organizationID), \(text), \(created)) RETURNING id
                    """, logger: logger).decode(Int64.self) { id = row }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
                throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.")
            }
            guard let id else { throw ContactStoreError(.database, "The new sync source got no id.") }
            return id
        }
        return SyncSource(id: id, organizationID: organizationID, definition: definition, etag: nil, lastModified: nil, created: created)
    }

    public func removeSyncSource(id: Int64, organizationID: Int64) async throws {
        let logger = self.logger
        let removed = try await withConnection { connection in
            var removed = false
            for try await _ in try await connection.query(
                "DELETE FROM sync_sources WHERE id = \(id) AND organization_id = \(organizationID) RETURNING id", logger: logger
            ) { removed = true }
            return removed
        }
        guard removed else { throw ContactStoreError(.notFound, "The organization has no sync source \(id).") }
    }

    public func claimSyncSource(
        id: Int64, organizationID: Int64, holder: String, now: Double, leaseUntil: Double, slot: Int64?
    ) async throws -> SyncSource? {
        let logger = self.logger
        return try await withConnection { connection in
            var claimed: SyncSource?
            for try await row in try await connection.query("""
                UPDATE sync_sources SET lease_holder = \(holder), lease_until = \(leaseUntil), last_slot = coalesce(\(slot)::bigint, last_slot)
                WHERE id = \(id) AND organization_id = \(organizationID) AND (lease_until IS NULL OR lease_until < \(now))
                  AND (\(slot)::bigint IS NULL OR last_slot < \(slot)::bigint)
                RETURNING id, organization_id, definition, etag, last_modified, created_at
                """, logger: logger) { claimed = try Self.syncSource(row) }
            return claimed
        }
    }

    public func finishSyncRun(_ run: SyncRun, organizationID: Int64, holder: String, validators: SyncValidators?) async throws -> Int64? {
        let logger = self.logger
        let text = SyncStorage.encode(run)
        let source = run.sourceID
        let kept = Int64(SyncRun.kept)
        return try await transaction { connection in
            var exists = false
            for try await _ in try await connection.query(
                "SELECT 1 FROM sync_sources WHERE id = \(source) AND organization_id = \(organizationID) FOR UPDATE", logger: logger
            ) { exists = true }
            guard exists else { return nil }
            try await connection.query(
                "UPDATE sync_sources SET lease_holder = NULL, lease_until = NULL WHERE id = \(source) AND lease_holder = \(holder)",
                logger: logger)
            if let validators {
                try await connection.query(
                    "UPDATE sync_sources SET etag = \(validators.etag), last_modified = \(validators.lastModified) WHERE id = \(source)",
                    logger: logger)
            }
            var id: Int64?
            for try await row in try await connection.query(
                "INSERT INTO sync_runs (source_id, run) VALUES (\(source), \(text)) RETURNING id", logger: logger
            ).decode(Int64.self) { id = row }
            try await connection.query("""
                DELETE FROM sync_runs WHERE source_id = \(source) AND id <= (SELECT id FROM sync_runs WHERE source_id = \(source) ORDER BY id DESC LIMIT 1 OFFSET \(kept))
                """, logger: logger)
            return id
        }
    }

    public func syncRuns(sourceID: Int64, organizationID: Int64, limit: Int) async throws -> [SyncRun] {
        try await rows(PostgresQuery(unsafeSQL: """
            SELECT r.id, r.run FROM sync_runs r JOIN sync_sources s ON s.id = r.source_id
            WHERE r.source_id = $1 AND s.organization_id = $2 ORDER BY r.id DESC LIMIT $3
            """, binds: Self.binds(sourceID, organizationID, Int64(limit)))) { row in
            let (id, text) = try row.decode((Int64, String).self)
            return try SyncStorage.run(text, id: id)
        }
    }

    private static func syncSource(_ row: PostgresRow) throws -> SyncSource {
        let (id, organizationID, definition, etag, lastModified, created) = try row.decode((Int64, Int64, String, String?, String?, Int64).self)
        return SyncSource(
            id: id, organizationID: organizationID, definition: try SyncStorage.definition(definition), etag: etag,
            lastModified: lastModified, created: created)
    }
}

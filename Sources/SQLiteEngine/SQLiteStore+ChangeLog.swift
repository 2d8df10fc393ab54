public import Contacts
import Foundation
import PhoneNumbers
public import StoreContract

/// The change log: the feed every follower reads, and its compaction.
extension SQLiteStore {
    /// The changes after `version`, whole transactions only (a batch may exceed `limit` to finish
    /// the last transaction it includes).
    ///
    /// Each change carries the contact's current state: an entry superseded by a later change of
    /// the same contact is left out, because the later entry carries it.
    /// Whether more than `count` changes of the organization follow `version` (counts at most
    /// `count + 1` of them).
    public func hasChanges(organizationID: Int64, moreThan count: Int, after version: Int64) throws -> Bool {
        try withReader { database in
            let statement = try database.statement(
                "SELECT count(*) FROM (SELECT 1 FROM changes WHERE organization_id = ? AND version > ? LIMIT ?)")
            statement.binding([.integer(organizationID), .integer(version), .integer(Int64(max(0, count)) + 1)])
            return try statement.step() && statement.int64(0) > Int64(count)
        }
    }

    public func changes(organizationID: Int64, after since: Int64, limit: Int = 10_000) throws -> ChangeBatch {
        try withReader { database in
            try database.execute("BEGIN")
            defer { try? database.execute("COMMIT") }
            let current = try version(of: organizationID, in: database)
            guard since >= (try Self.logStart(of: organizationID, in: database)), since <= current else {
                return ChangeBatch(changes: [], version: current, resync: true)
            }
            let boundary = try database.statement(
                "SELECT version FROM changes WHERE organization_id = ? AND version > ? ORDER BY version LIMIT 1 OFFSET ?")
            boundary.binding([.integer(organizationID), .integer(since), .integer(Int64(max(limit, 1) - 1))])
            let upTo = try boundary.step() ? boundary.int64(0) : current
            let statement = try database.statement(
                """
                SELECT changes.version, changes.contact_id, changes.op, contacts.id, contacts.version, \
                \(Schema.contactColumns.map { "contacts.\($0)" }.joined(separator: ", ")) \
                FROM changes LEFT JOIN contacts \
                ON contacts.organization_id = changes.organization_id AND contacts.id = changes.contact_id \
                WHERE changes.organization_id = ? AND changes.version > ? AND changes.version <= ? \
                ORDER BY changes.version, changes.contact_id
                """)
            statement.binding([.integer(organizationID), .integer(since), .integer(upTo)])
            var changes: [ContactChange] = []
            var labelsChanged = false
            while try statement.step() {
                let version = statement.int64(0)
                if statement.string(2) == "labels" {
                    labelsChanged = true
                } else if statement.string(2) == "delete" {
                    changes.append(.delete(id: statement.int64(1), version: version))
                } else if !statement.isNull(3), statement.int64(4) == version {
                    changes.append(.upsert(try Self.storedContact(from: statement, offset: 3)))
                }
                // Otherwise a later entry of the same contact carries its state.
            }
            // Only the newest labels entry is kept, and it carries the current labels.
            let labels = labelsChanged ? try organization(id: organizationID, in: database)?.labels : nil
            return ChangeBatch(changes: changes, version: upTo, resync: false, labels: labels)
        }
    }

    /// Keeps the change log about as large as the organization instead of growing with every write.
    ///
    /// * An upsert entry whose contact changed again or was deleted later is dropped: the later
    ///   entry carries the contact's state (the feed already skips such entries), so no follower
    ///   loses anything and the log start does not move.
    /// * Delete entries beyond `max(keepingDeletes, live contacts)` are dropped, oldest first, and
    ///   the log start moves past them: a follower that has not read that far is answered
    ///   `resync` (load everything again), which costs about what replaying those deletes would.
    ///
    /// Replaying the log from 0 still gives the live set: every live contact keeps its latest
    /// upsert. Runs inside each import's transaction and every 512th other write.
    @discardableResult
    public func compactChangeLog(organizationID: Int64, keepingDeletes: Int = ChangeLogRules.minimumRetainedDeletes) throws -> (dropped: Int, logStart: Int64) {
        try withDatabase { database in
            try database.transaction {
                try Self.compactChangeLog(organizationID: organizationID, keepingDeletes: keepingDeletes, below: .max, in: database)
            }
        }
    }

    /// `below`: entries of this version and later are not looked at (a write's own entries are
    /// the latest of their contacts), so compacting after an import into an empty organization
    /// reads nothing.
    static func compactChangeLog(
        organizationID: Int64, keepingDeletes: Int, below version: Int64, in database: SQLiteDatabase
    ) throws -> (dropped: Int, logStart: Int64) {
        try database.statement(
            """
            DELETE FROM changes WHERE organization_id = ?1 AND version < ?2 AND op = 'upsert' AND NOT EXISTS \
            (SELECT 1 FROM contacts WHERE contacts.organization_id = ?1 AND contacts.id = changes.contact_id \
            AND contacts.version = changes.version)
            """
        ).binding([.integer(organizationID), .integer(version)]).run()
        var dropped = database.changes
        let live = try database.statement("SELECT count(*) FROM contacts WHERE organization_id = ?").binding([.integer(organizationID)])
        _ = try live.step()
        let keep = max(keepingDeletes, Int(live.int64(0)))
        let cutoff = try database.statement(
            "SELECT version FROM changes WHERE organization_id = ? AND op = 'delete' ORDER BY version DESC LIMIT 1 OFFSET ?"
        ).binding([.integer(organizationID), .integer(Int64(keep))])
        if try cutoff.step() {
            let horizon = cutoff.int64(0)
            try database.statement("DELETE FROM changes WHERE organization_id = ? AND op = 'delete' AND version <= ?")
                .binding([.integer(organizationID), .integer(horizon)]).run()
            dropped += database.changes
            try database.statement("UPDATE organizations SET log_start = max(log_start, ?) WHERE id = ?")
                .binding([.integer(horizon), .integer(organizationID)]).run()
        }
        return (dropped, try logStart(of: organizationID, in: database))
    }

    /// The first version the organization's change log can be followed from (0 until compacted).
    static func logStart(of organizationID: Int64, in database: SQLiteDatabase) throws -> Int64 {
        let statement = try database.statement("SELECT log_start FROM organizations WHERE id = ?").binding([.integer(organizationID)])
        return try statement.step() ? statement.int64(0) : 0
    }
}

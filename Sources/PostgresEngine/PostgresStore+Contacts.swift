public import Contacts
import Foundation
import Logging
import NIOCore
public import PhoneNumbers
import PostgresNIO
import Synchronization
public import StoreContract

/// Imports, full loads and the change feed on PostgreSQL.
extension PostgresStore {
    static let columnNames = ContactField.allCases.map(\.rawValue)
    static let columns = columnNames.map { "\"\($0)\"" }
    static func qualified(_ table: String) -> String { columns.map { "\(table).\($0)" }.joined(separator: ", ") }

    /// Imports a CSV file (replace-all) and returns the contract's report: the same
    /// checks and report as the SQLite store, one transaction.
    ///
    /// The file is read and checked on a thread of its own (`ImportReader`) while the rows it
    /// accepted so far are streamed to the server (`COPY`), a window at a time as the server takes
    /// them, so checking and sending overlap in bounded memory. When the file is refused —
    /// even after rows were sent — the `COPY` fails, the transaction rolls back, and the
    /// `ImportRejection` is thrown: nothing changes.
    public func importContacts(
        _ source: ImportSource, organizationID: Int64, validator: PhoneNumberValidator, options: ImportOptions
    ) async throws -> ImportReport {
        let reader = ImportReader(source, validator: validator)
        let written: Result<ReplaceOutcome, any Error>
        do {
            written = .success(try await replaceAll(organizationID: organizationID, windows: reader.windows, options: options))
        } catch {
            written = .failure(error)
        }
        return try reader.report(written)
    }

    /// `replaceAll` over a whole list.
    public func replaceAll(organizationID: Int64, with contacts: [Contact]) async throws -> ReplaceOutcome {
        let (windows, continuation) = AsyncThrowingStream<[Contact], any Error>.makeStream()
        continuation.yield(contacts)
        continuation.finish()
        return try await replaceAll(organizationID: organizationID, windows: windows)
    }

    /// Replaces the organization's contacts with the contacts of `windows`, in order, in one
    /// transaction: `COPY` into a temporary table as they arrive, then matched, updated, inserted
    /// and deleted in set-based SQL with the change-log entries and the version bump. Matching is
    /// the SQLite store's: by `externalId` when the row has one, else by identical values (the
    /// oldest id first). An error from `windows` rolls everything back and is rethrown.
    func replaceAll<Windows: AsyncSequence & Sendable>(
        organizationID: Int64, windows: Windows, options: ImportOptions = ImportOptions()
    ) async throws -> ReplaceOutcome where Windows.Element == [Contact] {
        let logger = self.logger
        let columns = Self.columns.joined(separator: ", ")
        return try await transaction { connection in
            var locked: (version: Int64, next: Int64)?
            for try await row in try await connection.query(
                "SELECT version, next_contact_id FROM organizations WHERE id = \(organizationID) FOR UPDATE", logger: logger
            ).decode((Int64, Int64).self) { locked = (row.0, row.1) }
            guard let (current, nextID) = locked else {
                throw ContactStoreError(.unknownOrganization, "Organization \(organizationID) does not exist.")
            }
            let version = current + 1
            var empty = true
            for try await row in try await connection.query(
                "SELECT NOT EXISTS (SELECT 1 FROM contacts WHERE organization_id = \(organizationID))", logger: logger
            ).decode(Bool.self) { empty = row }
            if empty {
                // Nothing to match, update or delete: the rows go straight into `contacts`, numbered
                // in the file's order, and are logged from there — no staging table, no set-based
                // apply (a first import costs about one `COPY`).
                let total = try await Self.copy(windows, into: "contacts", columns: ["organization_id", "id", "version"], connection, logger: logger) {
                    ordinal, buffer in
                    buffer.writeString("\(organizationID)\t\(nextID + Int64(ordinal))\t\(version)\t")
                }
                guard total > 0 else {
                    throw ContactStoreError(.invalidInput, "An import with no contacts is refused; the previous contacts stay.")
                }
                var outcome = ReplaceOutcome()
                outcome.created = total
                return try await Self.commitImport(
                    outcome, organizationID: organizationID, version: version, current: current, nextID: nextID, options: options, connection,
                    logger: logger)
            }
            try await connection.query(PostgresQuery(unsafeSQL: """
                CREATE TEMP TABLE staging (ord bigint NOT NULL, \(Self.columns.map { "\($0) text NOT NULL" }.joined(separator: ", "))) ON COMMIT DROP
                """), logger: logger)
            let total = try await Self.copy(windows, into: "staging", columns: ["ord"], connection, logger: logger) { ordinal, buffer in
                buffer.writeString("\(ordinal)\t")
            }
            guard total > 0 else {
                throw ContactStoreError(.invalidInput, "An import with no contacts is refused; the previous contacts stay.")
            }
            let same = Self.columns.map { "c.\($0) = s.\($0)" }.joined(separator: " AND ")
            let valuesPartition = Self.columns.joined(separator: ", ")
            try await connection.query(PostgresQuery(unsafeSQL: """
                CREATE TEMP TABLE matched (ord bigint PRIMARY KEY, id bigint NOT NULL, same boolean NOT NULL) ON COMMIT DROP
                """), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO matched SELECT s.ord, c.id, (\(same)) FROM staging s JOIN contacts c
                ON c.organization_id = \(organizationID) AND s."externalId" <> '' AND c."externalId" = s."externalId"
                """), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO matched SELECT s.ord, c.id, true FROM
                (SELECT *, row_number() OVER (PARTITION BY \(valuesPartition) ORDER BY ord) AS rn FROM staging WHERE "externalId" = '') s
                JOIN (SELECT *, row_number() OVER (PARTITION BY \(valuesPartition) ORDER BY id) AS rn
                      FROM contacts WHERE organization_id = \(organizationID) AND "externalId" = '') c
                ON \(same) AND s.rn = c.rn
                """), logger: logger)
            // Deleted first, so an externalId that moved to a new contact is free for it.
            let deleted = try await Self.count(connection, logger: logger, """
                WITH gone AS (DELETE FROM contacts c WHERE c.organization_id = \(organizationID)
                              AND NOT EXISTS (SELECT 1 FROM matched m WHERE m.id = c.id) RETURNING c.id),
                logged AS (INSERT INTO changes (organization_id, version, contact_id, op)
                           SELECT \(organizationID), \(version), id, 'delete' FROM gone RETURNING 1)
                SELECT count(*) FROM logged
                """)
            let updated = try await Self.count(connection, logger: logger, """
                WITH changed AS (UPDATE contacts c SET version = \(version), \(Self.columns.map { "\($0) = s.\($0)" }.joined(separator: ", "))
                                 FROM matched m JOIN staging s ON s.ord = m.ord
                                 WHERE c.organization_id = \(organizationID) AND c.id = m.id AND NOT m.same RETURNING 1)
                SELECT count(*) FROM changed
                """)
            let created = try await Self.count(connection, logger: logger, """
                WITH added AS (INSERT INTO contacts (organization_id, id, version, \(columns))
                               SELECT \(organizationID), \(nextID - 1) + row_number() OVER (ORDER BY s.ord), \(version), \(Self.qualified("s"))
                               FROM staging s WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.ord = s.ord) RETURNING 1)
                SELECT count(*) FROM added
                """)
            var outcome = ReplaceOutcome()
            outcome.created = created
            outcome.updated = updated
            outcome.deleted = deleted
            outcome.unchanged = total - created - updated
            return try await Self.commitImport(
                outcome, organizationID: organizationID, version: version, current: current, nextID: nextID, options: options, connection,
                logger: logger)
        }
    }

    /// The end of an import written at `version`: the delete limit checked, a dry run rolled back,
    /// the new and changed contacts logged, the organization's version and next id moved, the log
    /// compacted and the commit announced.
    private static func commitImport(
        _ outcome: ReplaceOutcome, organizationID: Int64, version: Int64, current: Int64, nextID: Int64, options: ImportOptions,
        _ connection: PostgresConnection, logger: Logger
    ) async throws -> ReplaceOutcome {
        var outcome = outcome
        try options.check(outcome)
        if options.dryRun {
            // Everything was written as for real; throwing rolls it back.
            outcome.version = current
            throw DryRunOutcome(outcome: outcome)
        }
        guard outcome.created + outcome.updated + outcome.deleted > 0 else {
            outcome.version = current
            return outcome
        }
        try await connection.query(PostgresQuery(unsafeSQL: """
            INSERT INTO changes (organization_id, version, contact_id, op)
            SELECT organization_id, version, id, 'upsert' FROM contacts WHERE organization_id = \(organizationID) AND version = \(version)
            """), logger: logger)
        try await connection.query(
            "UPDATE organizations SET version = \(version), next_contact_id = \(nextID + Int64(outcome.created)) WHERE id = \(organizationID)",
            logger: logger)
        try await compactChangeLog(
            organizationID: organizationID, keepingDeletes: ChangeLogRules.minimumRetainedDeletes, below: version, connection, logger: logger)
        try await notifyCommit(organizationID: organizationID, version: version, connection, logger: logger)
        outcome.version = version
        return outcome
    }

    /// Streams the contacts of `windows` into `table` by `COPY`: each row is `prefix`'s columns
    /// (given the row's ordinal, written with their trailing tab) then the contact's values; sent a
    /// megabyte at a time as the server takes them. Returns how many rows.
    private static func copy<Windows: AsyncSequence & Sendable>(
        _ windows: Windows, into table: String, columns prefixColumns: [String], _ connection: PostgresConnection, logger: Logger,
        prefix: (Int, inout ByteBuffer) -> Void
    ) async throws -> Int where Windows.Element == [Contact] {
        var total = 0
        try await connection.copyFrom(table: table, columns: prefixColumns + columnNames, logger: logger) { writer in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1 << 20)
            for try await window in windows {
                for contact in window {
                    prefix(total, &buffer)
                    total += 1
                    for (index, value) in contact.values.enumerated() {
                        if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                        writeCopyText(value, to: &buffer)
                    }
                    buffer.writeInteger(UInt8(ascii: "\n"))
                }
                if buffer.readableBytes >= 1 << 20 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
        return total
    }

    /// All contacts of an organization in id order, its labels, and the version they reflect (one
    /// repeatable-read transaction, so they agree): what a follower starts from.
    public func fullLoad(organizationID: Int64) async throws -> FullLoad {
        let contacts = Mutex<[StoredContact]>([])
        let head = try await fullLoad(organizationID: organizationID) { stored in contacts.withLock { $0.append(stored) } }
        return FullLoad(contacts: contacts.withLock { $0 }, version: head.version, labels: head.labels)
    }

    /// The full load streamed: each contact handed to `body` as its row arrives, in id order, on
    /// one repeatable-read snapshot.
    public func fullLoad(organizationID: Int64, each body: @escaping @Sendable (StoredContact) throws -> Void) async throws -> FullLoadHead {
        let logger = self.logger
        return try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
            var organization: (version: Int64, labels: String)?
            for try await row in try await connection.query(
                "SELECT version, labels FROM organizations WHERE id = \(organizationID)", logger: logger
            ).decode((Int64, String).self) { organization = (row.0, row.1) }
            guard let organization else {
                throw ContactStoreError(.unknownOrganization, "Organization \(organizationID) does not exist.")
            }
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT id, version, \(Self.columns.joined(separator: ", ")) FROM contacts WHERE organization_id = \(organizationID) ORDER BY id
                """), logger: logger)
            for try await row in rows { try body(try Self.storedContact(row, offset: 0)) }
            return FullLoadHead(version: organization.version, labels: FieldLabels.decode(organization.labels))
        }
    }

    /// The changes after `version`, whole transactions only, each contact in its current state —
    /// the SQLite store's feed, on one repeatable-read snapshot.
    /// Whether more than `count` changes of the organization follow `version` (counts at most
    /// `count + 1` of them).
    public func hasChanges(organizationID: Int64, moreThan count: Int, after version: Int64) async throws -> Bool {
        let logger = self.logger
        let limit = Int64(max(0, count)) + 1
        return try await transaction { connection in
            var found: Int64 = 0
            for try await row in try await connection.query(
                "SELECT count(*) FROM (SELECT 1 FROM changes WHERE organization_id = \(organizationID) AND version > \(version) LIMIT \(limit)) AS pending",
                logger: logger
            ).decode(Int64.self) { found = row }
            return found > Int64(count)
        }
    }

    public func changes(organizationID: Int64, after since: Int64, limit: Int = 10_000) async throws -> ChangeBatch {
        let logger = self.logger
        return try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
            var organization: (version: Int64, logStart: Int64, labels: String)?
            for try await row in try await connection.query(
                "SELECT version, log_start, labels FROM organizations WHERE id = \(organizationID)", logger: logger
            ).decode((Int64, Int64, String).self) { organization = (row.0, row.1, row.2) }
            guard let organization else {
                throw ContactStoreError(.unknownOrganization, "Organization \(organizationID) does not exist.")
            }
            guard since >= organization.logStart, since <= organization.version else {
                return ChangeBatch(changes: [], version: organization.version, resync: true)
            }
            var upTo = organization.version
            let offset = max(limit, 1) - 1
            for try await boundary in try await connection.query(
                "SELECT version FROM changes WHERE organization_id = \(organizationID) AND version > \(since) ORDER BY version LIMIT 1 OFFSET \(offset)",
                logger: logger
            ).decode(Int64.self) { upTo = boundary }
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT ch.version, ch.contact_id, ch.op, c.id, c.version, \(Self.qualified("c"))
                FROM changes ch LEFT JOIN contacts c ON c.organization_id = ch.organization_id AND c.id = ch.contact_id
                WHERE ch.organization_id = \(organizationID) AND ch.version > \(since) AND ch.version <= \(upTo)
                ORDER BY ch.version, ch.contact_id
                """), logger: logger)
            var changes: [ContactChange] = []
            var labelsChanged = false
            for try await row in rows {
                let cells = row.makeRandomAccess()
                let version = try cells[0].decode(Int64.self)
                switch try cells[2].decode(String.self) {
                case "labels":
                    labelsChanged = true
                case "delete":
                    changes.append(.delete(id: try cells[1].decode(Int64.self), version: version))
                default:
                    // A later entry of the same contact carries its state when this one is not current.
                    if let contactVersion = try cells[4].decode(Int64?.self), contactVersion == version {
                        changes.append(.upsert(try Self.storedContact(row, offset: 3)))
                    }
                }
            }
            return ChangeBatch(
                changes: changes, version: upTo, resync: false, labels: labelsChanged ? FieldLabels.decode(organization.labels) : nil)
        }
    }

    /// The SQLite store's compaction (see `SQLiteStore.compactChangeLog`), in the write's
    /// transaction: upsert entries superseded by a later change go; delete entries beyond
    /// `max(keepingDeletes, live contacts)` go, oldest first, and the log start moves past them.
    static func compactChangeLog(
        organizationID: Int64, keepingDeletes: Int, below version: Int64, _ connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query("""
            DELETE FROM changes ch WHERE ch.organization_id = \(organizationID) AND ch.version < \(version) AND ch.op = 'upsert'
            AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.organization_id = ch.organization_id AND c.id = ch.contact_id
                            AND c.version = ch.version)
            """, logger: logger)
        let live = try await count(connection, logger: logger, "SELECT count(*) FROM contacts WHERE organization_id = \(organizationID)")
        let keep = Int64(max(keepingDeletes, live))
        var horizon: Int64?
        for try await cutoff in try await connection.query(
            "SELECT version FROM changes WHERE organization_id = \(organizationID) AND op = 'delete' ORDER BY version DESC LIMIT 1 OFFSET \(keep)",
            logger: logger
        ).decode(Int64.self) { horizon = cutoff }
        guard let horizon else { return }
        try await connection.query(
            "DELETE FROM changes WHERE organization_id = \(organizationID) AND op = 'delete' AND version <= \(horizon)", logger: logger)
        try await connection.query(
            "UPDATE organizations SET log_start = greatest(log_start, \(horizon)) WHERE id = \(organizationID)", logger: logger)
    }

    /// `id, version, columns…` from `offset` on.
    static func storedContact(_ row: PostgresRow, offset: Int) throws -> StoredContact {
        let cells = row.makeRandomAccess()
        let id = try cells[offset].decode(Int64.self)
        let version = try cells[offset + 1].decode(Int64.self)
        var values: [String] = []
        values.reserveCapacity(columnNames.count)
        for index in 0..<columnNames.count { values.append(try cells[offset + 2 + index].decode(String.self)) }
        guard let contact = Contact(trustedValues: values) else {
            throw ContactStoreError(.database, "Contact \(id) in the store is not well-formed.")
        }
        return StoredContact(id: id, version: version, contact: contact)
    }

    static func count(_ connection: PostgresConnection, logger: Logger, _ sql: String) async throws -> Int {
        var count = 0
        for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int64.self) {
            count = Int(value)
        }
        return count
    }

    /// A value in `COPY`'s text format: backslash, tab, line feed and carriage return escaped.
    static func writeCopyText(_ value: String, to buffer: inout ByteBuffer) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): buffer.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): buffer.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): buffer.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: buffer.writeInteger(byte)
            }
        }
    }
}

/// Commits, as every node learns of them: each write `NOTIFY`s `organization:version` on one
/// channel in its transaction (PostgreSQL delivers it at commit, never for a rolled-back write),
/// and each node `LISTEN`s. A notification can be lost while a listening connection is down, so a
/// follower also compares `versions()` when it (re)connects and at an interval.
extension PostgresStore {
    /// The channel commits are announced on.
    public static let commitChannel = "caller_lookup_commits"

    static func notifyCommit(organizationID: Int64, version: Int64, _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_notify(\(commitChannel), \("\(organizationID):\(version)"))", logger: logger)
    }

    /// Every organization's committed version, by id.
    public func versions() async throws -> [Int64: Int64] {
        let pairs = try await rows("SELECT id, version FROM organizations") { try $0.decode((Int64, Int64).self) }
        return Dictionary(pairs, uniquingKeysWith: { $1 })
    }

    /// Calls `commit` with (organization, version) for every commit announced while this listens,
    /// on one connection of the pool, until the task is cancelled or the connection fails (then
    /// it throws; the follower reconnects and compares `versions()`). `listening` is called once the
    /// server has registered the listener: commits after it are announced here.
    public func followCommits(
        listening: @Sendable () async -> Void = {}, _ commit: @Sendable (_ organizationID: Int64, _ version: Int64) async -> Void
    ) async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: Self.commitChannel) { notifications in
                await listening()
                for try await notification in notifications {
                    let parts = notification.payload.split(separator: ":")
                    guard parts.count == 2, let organizationID = Int64(parts[0]), let version = Int64(parts[1]) else { continue }
                    await commit(organizationID, version)
                }
            }
        }
    }
}

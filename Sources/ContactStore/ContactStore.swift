import Contacts
import Foundation
import PhoneNumbers

/// The store of record: organizations, users, contacts and each organization's change log, in one
/// SQLite file (WAL mode).
///
/// Every write is one transaction that changes contacts, appends the changes to the change log and
/// bumps the organization's version together, so a follower reading the log after version V sees
/// exactly the writes that committed after V.
///
/// Two connections, each serialized by its own mutex: the writer (every write, and reads that
/// belong to a write) and a reader for what followers and the change feed read — full loads,
/// change batches, the organizations' versions. In WAL mode the reader works from the last
/// committed state while an import holds the writer for seconds, so a long import never holds up a
/// follower, a feed request or a warm start. The lookup path never reads from here.
public final class ContactStore: @unchecked Sendable {
    // @unchecked: `database` is only touched under `lock`, `reader` only under `readerLock`.
    private let database: SQLiteDatabase
    private let lock = NSLock()
    private let reader: SQLiteDatabase
    private let readerLock = NSLock()
    /// The popup links' HMAC key, read from `settings` once (under `lock`).
    var popupSecret: [UInt8]?
    /// Where the database file is.
    public let path: String

    /// Opens (creating if needed) `directory/caller-lookup.sqlite` and runs pending migrations.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("caller-lookup.sqlite")
        let database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA journal_mode = WAL")
        try database.execute("PRAGMA synchronous = NORMAL")
        try database.execute("PRAGMA foreign_keys = ON")
        // A 20 MB import touches tens of megabytes of pages; with SQLite's default 2 MB cache the
        // transaction spills to the WAL mid-way and re-reads index pages.
        try database.execute("PRAGMA cache_size = -65536")
        try database.execute("PRAGMA temp_store = MEMORY")
        // After a large import the WAL is cut back to 64 MB once checkpointed, not kept at its peak.
        try database.execute("PRAGMA journal_size_limit = 67108864")
        try Schema.migrate(database)
        let reader = try SQLiteDatabase(path: path)
        try reader.execute("PRAGMA query_only = ON")
        try reader.execute("PRAGMA cache_size = -16384")
        self.path = path
        self.database = database
        self.reader = reader
    }

    /// Runs `body` on the writer connection.
    func withDatabase<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        try Self.using(database, lock, body)
    }

    /// Runs `body` on the reader connection (see the type's comment); reads only.
    func withReader<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        try Self.using(reader, readerLock, body)
    }

    private static func using<T>(_ connection: SQLiteDatabase, _ lock: NSLock, _ body: (SQLiteDatabase) throws -> T) throws -> T {
        lock.lock()
        defer {
            // A stepped but unreset SELECT keeps its read snapshot open: this connection would no
            // longer see what another process (a CLI import beside a running server) commits.
            connection.resetStatements()
            lock.unlock()
        }
        return try body(connection)
    }

    /// A number that changes whenever any connection — this process's writer or another process,
    /// such as a CLI import — commits to the database (`PRAGMA data_version` on the reader). One
    /// page-cache read: followers poll it to notice other writers' commits cheaply.
    public func commitCounter() throws -> Int64 {
        try withReader { reader in
            let statement = try reader.statement("PRAGMA data_version")
            return try statement.step() ? statement.int64(0) : 0
        }
    }

    /// Every organization, as committed now, read on the reader connection.
    public func committedOrganizations() throws -> [Organization] {
        try withReader { try Self.organizations(in: $0) }
    }

    // MARK: Organizations and users

    @discardableResult
    public func createOrganization(name: String, defaultRegion: String = "CZ", suffixDigits: Int = 9) throws -> Organization {
        let name = name.trimmingWhitespace()
        let region = defaultRegion.uppercased()
        guard !name.isEmpty, name.unicodeScalars.count <= 255 else {
            throw ContactStoreError(.invalidInput, "An organization name must have 1 to 255 characters.")
        }
        guard region.count == 2, PhoneNumberValidator().countryCode(forRegion: region) != nil else {
            throw ContactStoreError(.unknownRegion, "'\(defaultRegion)' is not a region libphonenumber knows; use two letters such as CZ, SK, DE, US.")
        }
        guard (4...15).contains(suffixDigits) else {
            throw ContactStoreError(.invalidInput, "The suffix length must be between 4 and 15 digits.")
        }
        return try withDatabase { database in
            if try organization(named: name, in: database) != nil {
                throw ContactStoreError(.organizationExists, "An organization named '\(name)' already exists.")
            }
            try database.statement("INSERT INTO organizations (name, default_region, suffix_digits) VALUES (?, ?, ?)")
                .binding([.text(name), .text(region), .integer(Int64(suffixDigits))]).run()
            return Organization(id: database.lastInsertRowID, name: name, defaultRegion: region,
                                suffixDigits: suffixDigits, version: 0)
        }
    }

    public func organization(named name: String) throws -> Organization? {
        try withDatabase { try organization(named: name, in: $0) }
    }

    public func organization(id: Int64) throws -> Organization? {
        try withDatabase { try organization(id: id, in: $0) }
    }

    private func organization(id: Int64, in database: SQLiteDatabase) throws -> Organization? {
        let statement = try database.statement(
            "SELECT id, name, default_region, suffix_digits, version, labels FROM organizations WHERE id = ?")
        statement.bind(1, id)
        return try statement.step() ? Self.organization(from: statement) : nil
    }

    public func organizations() throws -> [Organization] {
        try withDatabase { try Self.organizations(in: $0) }
    }

    private static func organizations(in database: SQLiteDatabase) throws -> [Organization] {
        let statement = try database.statement(
            "SELECT id, name, default_region, suffix_digits, version, labels FROM organizations ORDER BY name")
        var result: [Organization] = []
        while try statement.step() { result.append(Self.organization(from: statement)) }
        return result
    }

    private func organization(named name: String, in database: SQLiteDatabase) throws -> Organization? {
        let statement = try database.statement(
            "SELECT id, name, default_region, suffix_digits, version, labels FROM organizations WHERE name = ?")
        statement.bind(1, name)
        return try statement.step() ? Self.organization(from: statement) : nil
    }

    private static func organization(from statement: SQLiteStatement) -> Organization {
        Organization(id: statement.int64(0), name: statement.string(1), defaultRegion: statement.string(2),
                     suffixDigits: Int(statement.int64(3)), version: statement.int64(4),
                     labels: FieldLabels.decode(statement.string(5)))
    }

    /// Sets or clears (`nil` or empty) the organization's names for fields and returns the
    /// organization with its new labels. Labels are trimmed and 1 to 64 characters long.
    /// Changes the organization's field labels (`nil` or empty clears one). A real change is a
    /// versioned change like a contact's: it bumps the organization's version and is logged, so
    /// every follower — other API nodes, mirrors — applies it in order.
    public func setLabels(_ changes: [ContactField: String?], organizationID: Int64) throws -> Organization {
        for (field, label) in changes {
            let trimmed = (label ?? "").trimmingWhitespace()
            guard trimmed.unicodeScalars.count <= 64, !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw ContactStoreError(.invalidInput, "The label of \(field.rawValue) must have at most 64 characters and no control characters.")
            }
        }
        _ = try write(organizationID: organizationID) { write in
            guard var labels = try organization(id: organizationID, in: write.database)?.labels else {
                throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.")
            }
            let before = labels
            for (field, label) in changes {
                let trimmed = (label ?? "").trimmingWhitespace()
                labels[field] = trimmed.isEmpty ? nil : trimmed
            }
            guard labels != before else { return }
            try write.database.statement("UPDATE organizations SET labels = ? WHERE id = ?")
                .binding([.text(FieldLabels.encode(labels)), .integer(organizationID)]).run()
            try write.logLabels()
        }
        guard let updated = try organization(id: organizationID) else {
            throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.")
        }
        return updated
    }

    /// Adds a user; the password is kept only as a yescrypt hash.
    public func addUser(login: String, password: String, organizationID: Int64) throws {
        let login = login.trimmingWhitespace()
        guard !login.isEmpty, login.unicodeScalars.count <= 255, !login.contains(":") else {
            throw ContactStoreError(.invalidInput, "A login must have 1 to 255 characters and no ':' (HTTP Basic authentication splits on it).")
        }
        guard !password.isEmpty else {
            throw ContactStoreError(.invalidInput, "The password is empty.")
        }
        guard let hash = PasswordHash.make(password) else {
            throw ContactStoreError(.database, "The system could not hash the password (no random source?).")
        }
        try withDatabase { database in
            do {
                try database.statement("INSERT INTO users (login, password_hash, organization_id) VALUES (?, ?, ?)")
                    .binding([.text(login), .text(hash), .integer(organizationID)]).run()
            } catch let error as SQLiteError where error.isUniqueViolation {
                throw ContactStoreError(.loginTaken, "The login '\(login)' is taken.")
            }
        }
    }

    /// The organization of the user whose login and password these are, or `nil`.
    public func authenticate(login: String, password: String) throws -> Organization? {
        let stored: (hash: String, organizationID: Int64)? = try withDatabase { database in
            let statement = try database.statement("SELECT password_hash, organization_id FROM users WHERE login = ?")
            statement.bind(1, login)
            return try statement.step() ? (statement.string(0), statement.int64(1)) : nil
        }
        // Hash even for an unknown login, so its answer takes as long as a wrong password's.
        let hash = stored?.hash ?? Self.decoyHash
        guard PasswordHash.verify(password, against: hash), let stored else { return nil }
        return try organization(id: stored.organizationID)
    }

    private static let decoyHash = PasswordHash.make("decoy") ?? "*"

    // MARK: Reading contacts

    private static let selectContact = "SELECT id, version, " + Schema.contactColumns.joined(separator: ", ") + " FROM contacts"
    private static let selectContactByID = selectContact + " WHERE id = ? AND organization_id = ?"
    private static let selectContactsOfOrganization = selectContact + " WHERE organization_id = ? ORDER BY id"
    private static let selectContactsByNumber =
        selectContact + " WHERE organization_id = ?1 AND (phone1 = ?2 OR phone2 = ?2) ORDER BY id"
    private static let selectContactsPage = selectContact + " WHERE organization_id = ? AND id > ? ORDER BY id LIMIT ?"
    /// The `<> ''` term lets SQLite use the partial unique index on `externalId` (it cannot prove
    /// a bound parameter non-empty); without it every lookup scanned the organization's rows.
    private static let selectContactByExternalId =
        selectContact + " WHERE organization_id = ? AND \"externalId\" = ? AND \"externalId\" <> ''"

    private static func storedContact(from statement: SQLiteStatement, offset: Int32 = 0) throws -> StoredContact {
        var values: [String] = []
        values.reserveCapacity(ContactField.allCases.count)
        for column in 0..<Int32(ContactField.allCases.count) {
            values.append(statement.string(offset + 2 + column))
        }
        guard let contact = Contact(trustedValues: values) else {
            throw ContactStoreError(.database, "Contact \(statement.int64(offset)) in the store is malformed.")
        }
        return StoredContact(id: statement.int64(offset), version: statement.int64(offset + 1), contact: contact)
    }

    public func contact(id: Int64, organizationID: Int64) throws -> StoredContact? {
        try withDatabase { try contact(id: id, organizationID: organizationID, in: $0) }
    }

    private func contact(id: Int64, organizationID: Int64, in database: SQLiteDatabase) throws -> StoredContact? {
        let statement = try database.statement(Self.selectContactByID)
        statement.binding([.integer(id), .integer(organizationID)])
        return try statement.step() ? Self.storedContact(from: statement) : nil
    }

    /// All contacts of an organization in id order, and the version they reflect (one read
    /// transaction, so the two agree).
    public func allContacts(organizationID: Int64) throws -> (contacts: [StoredContact], version: Int64) {
        let load = try fullLoad(organizationID: organizationID)
        return (load.contacts, load.version)
    }

    /// All contacts of an organization in id order, its field labels, and the version they reflect
    /// (one read transaction): what a follower starts from.
    public func fullLoad(organizationID: Int64) throws -> FullLoad {
        try withReader { database in
            try database.execute("BEGIN")
            defer { try? database.execute("COMMIT") }
            let statement = try database.statement(Self.selectContactsOfOrganization)
            statement.bind(1, organizationID)
            var result: [StoredContact] = []
            while try statement.step() { result.append(try Self.storedContact(from: statement)) }
            guard let organization = try organization(id: organizationID, in: database) else {
                throw ContactStoreError(.unknownOrganization, "Organization \(organizationID) does not exist.")
            }
            return FullLoad(contacts: result, version: organization.version, labels: organization.labels)
        }
    }

    /// One page of an organization's contacts in id order, after `afterID` (a stable cursor:
    /// writes between pages neither repeat nor skip the contacts that stay).
    public func contactsPage(organizationID: Int64, afterID: Int64, limit: Int) throws -> [StoredContact] {
        try withDatabase { database in
            let statement = try database.statement(Self.selectContactsPage)
            statement.binding([.integer(organizationID), .integer(afterID), .integer(Int64(max(1, limit)))])
            var result: [StoredContact] = []
            while try statement.step() { result.append(try Self.storedContact(from: statement)) }
            return result
        }
    }

    /// Contacts whose `phone1` or `phone2` is `number`, in id order, read from SQL (a scan of the
    /// organization's rows: lookups are the in-memory index's job; this is for checks and tools).
    public func contacts(withNumber number: PhoneNumber, organizationID: Int64) throws -> [StoredContact] {
        try withDatabase { database in
            let statement = try database.statement(Self.selectContactsByNumber)
            statement.binding([.integer(organizationID), .text(number.e164)])
            var result: [StoredContact] = []
            while try statement.step() { result.append(try Self.storedContact(from: statement)) }
            return result
        }
    }

    private func version(of organizationID: Int64, in database: SQLiteDatabase) throws -> Int64 {
        let statement = try database.statement("SELECT version FROM organizations WHERE id = ?")
        statement.bind(1, organizationID)
        guard try statement.step() else {
            throw ContactStoreError(.unknownOrganization, "Organization \(organizationID) does not exist.")
        }
        return statement.int64(0)
    }

    // MARK: The change log

    /// The changes after `version`, whole transactions only (a batch may exceed `limit` to finish
    /// the last transaction it includes).
    ///
    /// Each change carries the contact's current state: an entry superseded by a later change of
    /// the same contact is left out, because the later entry carries it.
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
                FROM changes LEFT JOIN contacts ON contacts.id = changes.contact_id \
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

    /// Compaction keeps at least this many delete entries, however small the organization.
    public static let minimumRetainedDeletes = 10_000

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
    public func compactChangeLog(organizationID: Int64, keepingDeletes: Int = ContactStore.minimumRetainedDeletes) throws -> (dropped: Int, logStart: Int64) {
        try withDatabase { database in
            try database.transaction {
                try Self.compactChangeLog(organizationID: organizationID, keepingDeletes: keepingDeletes, below: .max, in: database)
            }
        }
    }

    /// `below`: entries of this version and later are not looked at (a write's own entries are
    /// the latest of their contacts), so compacting after an import into an empty organization
    /// reads nothing.
    private static func compactChangeLog(
        organizationID: Int64, keepingDeletes: Int, below version: Int64, in database: SQLiteDatabase
    ) throws -> (dropped: Int, logStart: Int64) {
        try database.statement(
            """
            DELETE FROM changes WHERE organization_id = ?1 AND version < ?2 AND op = 'upsert' AND NOT EXISTS \
            (SELECT 1 FROM contacts WHERE contacts.id = changes.contact_id AND contacts.version = changes.version)
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
    private static func logStart(of organizationID: Int64, in database: SQLiteDatabase) throws -> Int64 {
        let statement = try database.statement("SELECT log_start FROM organizations WHERE id = ?").binding([.integer(organizationID)])
        return try statement.step() ? statement.int64(0) : 0
    }

    // MARK: Writing contacts

    /// A write in progress: one transaction, one new version.
    private struct Write {
        static let insertSQL =
            "INSERT INTO contacts (organization_id, version, \(Schema.contactColumns.joined(separator: ", "))) VALUES (?, ?, "
            + Array(repeating: "?", count: ContactField.allCases.count).joined(separator: ", ") + ")"
        static let updateSQL =
            "UPDATE contacts SET version = ?, " + Schema.contactColumns.map { "\($0) = ?" }.joined(separator: ", ")
            + " WHERE id = ? AND organization_id = ?"

        let database: SQLiteDatabase
        let organizationID: Int64
        let version: Int64
        var changed = false
        /// Set by an import: the change log is compacted in the same transaction.
        var replacedAll = false

        /// Prepared once per write: a bulk import runs them tens of thousands of times.
        private var insertStatement: SQLiteStatement?
        private var updateStatement: SQLiteStatement?
        private var logStatement: SQLiteStatement?

        init(database: SQLiteDatabase, organizationID: Int64, version: Int64) {
            self.database = database
            self.organizationID = organizationID
            self.version = version
        }

        private static func prepared(_ cached: inout SQLiteStatement?, _ sql: String, in database: SQLiteDatabase) throws -> SQLiteStatement {
            if let cached {
                cached.reset()
                return cached
            }
            let statement = try database.statement(sql)
            cached = statement
            return statement
        }

        /// Inserts a contact. `logged: false` leaves the change-log entry to `logUpserts()`, which
        /// writes a bulk import's entries in one statement.
        @discardableResult
        mutating func insert(_ contact: Contact, logged: Bool = true) throws -> StoredContact {
            let statement = try Self.prepared(&insertStatement, Self.insertSQL, in: database)
            statement.bind(1, organizationID)
            statement.bind(2, version)
            for (offset, value) in contact.values.enumerated() { statement.bind(Int32(offset + 3), value) }
            try run(statement, externalId: contact[.externalId])
            let id = database.lastInsertRowID
            if logged { try log(id, "upsert") } else { changed = true }
            return StoredContact(id: id, version: version, contact: contact)
        }

        /// Logs every contact this write inserted or updated (they carry its version) as upserted.
        mutating func logUpserts() throws {
            try database.statement(
                """
                INSERT OR REPLACE INTO changes (organization_id, version, contact_id, op) \
                SELECT organization_id, version, id, 'upsert' FROM contacts WHERE organization_id = ? AND version = ?
                """
            ).binding([.integer(organizationID), .integer(version)]).run()
        }

        @discardableResult
        mutating func update(_ id: Int64, to contact: Contact, logged: Bool = true) throws -> StoredContact {
            let statement = try Self.prepared(&updateStatement, Self.updateSQL, in: database)
            statement.bind(1, version)
            for (offset, value) in contact.values.enumerated() { statement.bind(Int32(offset + 2), value) }
            statement.bind(Int32(contact.values.count + 2), id)
            statement.bind(Int32(contact.values.count + 3), organizationID)
            try run(statement, externalId: contact[.externalId])
            if logged { try log(id, "upsert") } else { changed = true }
            return StoredContact(id: id, version: version, contact: contact)
        }

        mutating func delete(_ id: Int64) throws {
            try database.statement("DELETE FROM contacts WHERE id = ? AND organization_id = ?")
                .binding([.integer(id), .integer(organizationID)]).run()
            try log(id, "delete")
        }

        private func run(_ statement: SQLiteStatement, externalId: String) throws {
            do {
                try statement.run()
            } catch let error as SQLiteError where error.isUniqueViolation {
                throw ContactStoreError(.duplicateExternalId, "externalId '\(externalId)' already belongs to another contact.")
            }
        }

        /// Logs a change of the organization's labels; the older labels entry goes (the feed
        /// carries the current labels with the newest one).
        mutating func logLabels() throws {
            try database.statement("DELETE FROM changes WHERE organization_id = ? AND op = 'labels'")
                .binding([.integer(organizationID)]).run()
            try log(0, "labels")
        }

        private mutating func log(_ id: Int64, _ op: String) throws {
            let statement = try Self.prepared(
                &logStatement, "INSERT OR REPLACE INTO changes (organization_id, version, contact_id, op) VALUES (?, ?, ?, ?)",
                in: database)
            statement.bind(1, organizationID)
            statement.bind(2, version)
            statement.bind(3, id)
            statement.bind(4, op)
            try statement.run()
            changed = true
        }
    }

    /// Runs `body` as one write transaction with the next version; the version is bumped only if
    /// `body` changed something.
    private func write<T>(organizationID: Int64, _ body: (inout Write) throws -> T) throws -> (T, version: Int64) {
        try withDatabase { database in
            try database.transaction {
                let current = try version(of: organizationID, in: database)
                var write = Write(database: database, organizationID: organizationID, version: current + 1)
                let result = try body(&write)
                guard write.changed else { return (result, current) }
                try database.statement("UPDATE organizations SET version = ? WHERE id = ?")
                    .binding([.integer(write.version), .integer(organizationID)]).run()
                if write.replacedAll || write.version % 512 == 0 {
                    _ = try Self.compactChangeLog(
                        organizationID: organizationID, keepingDeletes: Self.minimumRetainedDeletes, below: write.version, in: database)
                }
                return (result, write.version)
            }
        }
    }

    /// Replaces the organization's contacts with `contacts` (SPEC §4) in one transaction.
    ///
    /// Each new contact is matched to an existing one by `externalId` when it has one, else by
    /// identical values; matched contacts keep their id, and only real changes are written to the
    /// table and the change log. An empty list is refused: it would wipe the organization.
    public func replaceAll(organizationID: Int64, with contacts: [Contact]) throws -> ReplaceOutcome {
        var pending: [Contact]? = contacts
        return try replaceAll(organizationID: organizationID) {
            defer { pending = nil }
            return pending
        }
    }

    /// `replaceAll` over contacts that arrive in batches (`nextBatch` returns `nil` at the end, or
    /// throws to roll everything back): each is matched and written as it comes, the contacts
    /// nobody matched are deleted at the end. A freed `externalId` cannot be claimed by an insert
    /// before its old owner is deleted: an incoming `externalId` that exists always matches it.
    func replaceAll(organizationID: Int64, nextBatch: () throws -> [Contact]?) throws -> ReplaceOutcome {
        let (outcome, version) = try write(organizationID: organizationID) { write in
            var outcome = ReplaceOutcome()
            let statement = try write.database.statement(Self.selectContactsOfOrganization)
            statement.bind(1, organizationID)
            var byExternalId: [String: StoredContact] = [:]
            var byValues: [[String]: [Int64]] = [:]
            var unmatched: Set<Int64> = []
            while try statement.step() {
                let stored = try Self.storedContact(from: statement)
                unmatched.insert(stored.id)
                let externalId = stored.contact[.externalId]
                if externalId.isEmpty {
                    byValues[stored.contact.values, default: []].append(stored.id)
                } else {
                    byExternalId[externalId] = stored
                }
            }
            // Reversed so that popLast hands out the oldest id first.
            for key in byValues.keys { byValues[key]!.reverse() }

            var total = 0
            while let batch = try nextBatch() {
                total += batch.count
                for contact in batch {
                    let externalId = contact[.externalId]
                    if !externalId.isEmpty, let existing = byExternalId.removeValue(forKey: externalId) {
                        unmatched.remove(existing.id)
                        if existing.contact == contact {
                            outcome.unchanged += 1
                        } else {
                            try write.update(existing.id, to: contact, logged: false)
                            outcome.updated += 1
                        }
                    } else if externalId.isEmpty, !byValues.isEmpty, let id = byValues[contact.values]?.popLast() {
                        unmatched.remove(id)
                        outcome.unchanged += 1
                    } else {
                        try write.insert(contact, logged: false)
                        outcome.created += 1
                    }
                }
            }
            guard total > 0 else {
                throw ContactStoreError(.invalidInput, "An import with no contacts is refused; the previous contacts stay.")
            }
            if outcome.created + outcome.updated > 0 { try write.logUpserts() }
            write.replacedAll = true
            for id in unmatched.sorted() { try write.delete(id) }
            outcome.deleted = unmatched.count
            return outcome
        }
        var result = outcome
        result.version = version
        return result
    }

    /// Creates a contact. Throws `duplicateExternalId` when its `externalId` is taken.
    public func create(_ contact: Contact, organizationID: Int64) throws -> StoredContact {
        try write(organizationID: organizationID) { try $0.insert(contact) }.0
    }

    /// Replaces a contact's values (PUT). Unchanged values write nothing.
    public func replace(id: Int64, with contact: Contact, organizationID: Int64) throws -> StoredContact {
        try update(id: id, organizationID: organizationID) { _ in contact }
    }

    /// Changes a contact by `edit`, which gets the current values (PATCH). `edit` may throw to refuse.
    public func update(id: Int64, organizationID: Int64, _ edit: (Contact) throws -> Contact) throws -> StoredContact {
        try write(organizationID: organizationID) { write in
            guard let existing = try contact(id: id, organizationID: organizationID, in: write.database) else {
                throw ContactStoreError(.notFound, "Contact \(id) does not exist.")
            }
            let contact = try edit(existing.contact)
            return contact == existing.contact ? existing : try write.update(id, to: contact)
        }.0
    }

    /// Deletes a contact.
    public func delete(id: Int64, organizationID: Int64) throws {
        _ = try write(organizationID: organizationID) { write in
            guard try contact(id: id, organizationID: organizationID, in: write.database) != nil else {
                throw ContactStoreError(.notFound, "Contact \(id) does not exist.")
            }
            try write.delete(id)
        }
    }

    /// Applies many writes in one transaction: all of them, or — when one fails — none.
    ///
    /// An upsert of a contact with an `externalId` creates or replaces the contact with that id;
    /// without one it creates. Throws `BatchFailure` naming the operation that failed.
    public func applyBatch(_ operations: [BatchOperation], organizationID: Int64) throws -> (results: [BatchResult], version: Int64) {
        let (results, version) = try write(organizationID: organizationID) { write in
            var results: [BatchResult] = []
            results.reserveCapacity(operations.count)
            for (index, operation) in operations.enumerated() {
                do {
                    results.append(try apply(operation, in: &write))
                } catch let error as ContactStoreError {
                    throw BatchFailure(index: index, error: error)
                }
            }
            return results
        }
        return (results, version)
    }

    private func apply(_ operation: BatchOperation, in write: inout Write) throws -> BatchResult {
        switch operation {
        case .upsert(let contact):
            let externalId = contact[.externalId]
            guard !externalId.isEmpty else { return .created(try write.insert(contact)) }
            let statement = try write.database.statement(Self.selectContactByExternalId)
            statement.binding([.integer(write.organizationID), .text(externalId)])
            guard try statement.step() else { return .created(try write.insert(contact)) }
            let existing = try Self.storedContact(from: statement)
            statement.reset()
            return existing.contact == contact ? .unchanged(existing) : .updated(try write.update(existing.id, to: contact))
        case .delete(let id):
            guard try contact(id: id, organizationID: write.organizationID, in: write.database) != nil else {
                throw ContactStoreError(.notFound, "Contact \(id) does not exist.")
            }
            try write.delete(id)
            return .deleted(id)
        case .deleteExternal(let externalId):
            let statement = try write.database.statement(Self.selectContactByExternalId)
            statement.binding([.integer(write.organizationID), .text(externalId)])
            guard try statement.step() else {
                throw ContactStoreError(.notFound, "No contact has externalId '\(externalId)'.")
            }
            let id = statement.int64(0)
            statement.reset()
            try write.delete(id)
            return .deleted(id)
        }
    }

    /// Creates or replaces the contact with this `externalId` (the contact's own `externalId` is set
    /// to it). Returns the stored contact and whether it was created.
    public func upsert(externalId: String, contact: Contact, organizationID: Int64) throws -> (StoredContact, created: Bool) {
        guard contact[.externalId] == externalId, !externalId.isEmpty else {
            throw ContactStoreError(.invalidInput, "The contact's externalId must be '\(externalId)'.")
        }
        return try write(organizationID: organizationID) { write in
            let statement = try write.database.statement(Self.selectContactByExternalId)
            statement.binding([.integer(organizationID), .text(externalId)])
            if try statement.step() {
                let existing = try Self.storedContact(from: statement)
                statement.reset()
                return (existing.contact == contact ? existing : try write.update(existing.id, to: contact), false)
            }
            return (try write.insert(contact), true)
        }.0
    }
}

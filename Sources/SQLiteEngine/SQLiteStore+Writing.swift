public import Contacts
import Foundation
import PhoneNumbers
public import StoreContract

/// Writing contacts: every write is one transaction with the next version and its change-log entries.
extension SQLiteStore {
    /// A write in progress: one transaction, one new version.
    struct Write {
        static let insertSQL =
            "INSERT INTO contacts (organization_id, id, version, \(Schema.contactColumns.joined(separator: ", "))) VALUES (?, ?, ?, "
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
        /// The organization's next contact id once this write inserted (ids count per
        /// organization); `write` stores it with the version.
        private(set) var nextContactID: Int64?

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
            let id = try nextContactID ?? Self.nextContactID(of: organizationID, in: database)
            let statement = try Self.prepared(&insertStatement, Self.insertSQL, in: database)
            statement.bind(1, organizationID)
            statement.bind(2, id)
            statement.bind(3, version)
            for (offset, value) in contact.values.enumerated() { statement.bind(Int32(offset + 4), value) }
            try run(statement, externalId: contact[.externalId])
            nextContactID = id + 1
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

        /// One write by `ContactWrite`'s rules.
        mutating func perform(_ request: ContactWrite) throws -> BatchResult {
            switch try request.step(existing: try request.key.flatMap(contact)) {
            case .insert(let contact):
                return .created(try insert(contact))
            case .update(let id, let contact):
                return .updated(try update(id, to: contact))
            case .keep(let existing):
                return .unchanged(existing)
            case .delete(let id):
                try delete(id)
                return .deleted(id)
            }
        }

        private func contact(_ key: ContactWrite.Key) throws -> StoredContact? {
            switch key {
            case .id(let id):
                return try SQLiteStore.contact(id: id, organizationID: organizationID, in: database)
            case .externalId(let externalId):
                let statement = try database.statement(SQLiteStore.selectContactByExternalId)
                statement.binding([.integer(organizationID), .text(externalId)])
                return try statement.step() ? SQLiteStore.storedContact(from: statement) : nil
            }
        }

        private static func nextContactID(of organizationID: Int64, in database: SQLiteDatabase) throws -> Int64 {
            let statement = try database.statement("SELECT next_contact_id FROM organizations WHERE id = ?")
                .binding([.integer(organizationID)])
            guard try statement.step() else {
                throw ContactStoreError(.unknownOrganization, "Organization \(organizationID) does not exist.")
            }
            return statement.int64(0)
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
    func write<T>(organizationID: Int64, _ body: (inout Write) throws -> T) throws -> (T, version: Int64) {
        try withDatabase { database in
            try database.transaction {
                let current = try version(of: organizationID, in: database)
                var write = Write(database: database, organizationID: organizationID, version: current + 1)
                let result = try body(&write)
                guard write.changed else { return (result, current) }
                try database.statement("UPDATE organizations SET version = ? WHERE id = ?")
                    .binding([.integer(write.version), .integer(organizationID)]).run()
                if let next = write.nextContactID {
                    try database.statement("UPDATE organizations SET next_contact_id = ? WHERE id = ?")
                        .binding([.integer(next), .integer(organizationID)]).run()
                }
                if write.replacedAll || write.version % 512 == 0 {
                    _ = try Self.compactChangeLog(
                        organizationID: organizationID, keepingDeletes: ChangeLogRules.minimumRetainedDeletes, below: write.version, in: database)
                }
                return (result, write.version)
            }
        }
    }

    /// Replaces the organization's contacts with `contacts` in one transaction.
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
    func replaceAll(organizationID: Int64, options: ImportOptions = ImportOptions(), nextBatch: () throws -> [Contact]?) throws -> ReplaceOutcome {
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
            try options.check(outcome)
            if options.dryRun {
                // Everything was written as for real; throwing rolls it back.
                outcome.version = write.version - 1
                throw DryRunOutcome(outcome: outcome)
            }
            return outcome
        }
        var result = outcome
        result.version = version
        return result
    }

    /// The writes in one transaction, by `ContactWrite`'s rules: all of them, or — when one
    /// fails (`BatchFailure` naming it) — none.
    public func apply(_ writes: [ContactWrite], organizationID: Int64) throws -> (results: [BatchResult], version: Int64) {
        try write(organizationID: organizationID) { write in try WriteRules.each(writes) { try write.perform($0) } }
    }
}

/// Single-contact writes on the embedded store, waiting on the calling thread: for the CLI and
/// tests (the service writes through `RecordStore`, whose rules these share).
extension SQLiteStore {
    public func create(_ contact: Contact, organizationID: Int64) throws -> StoredContact {
        try single(.create(contact), organizationID).result.stored!
    }

    public func replace(id: Int64, with contact: Contact, organizationID: Int64) throws -> StoredContact {
        try single(.edit(id: id) { _ in contact }, organizationID).result.stored!
    }

    public func update(id: Int64, organizationID: Int64, _ edit: @escaping @Sendable (Contact) throws -> Contact) throws -> StoredContact {
        try single(.edit(id: id, edit), organizationID).result.stored!
    }

    /// Returns the organization's version with the delete.
    @discardableResult
    public func delete(id: Int64, organizationID: Int64) throws -> Int64 {
        try single(.delete(id: id), organizationID).version
    }

    public func upsert(externalId: String, contact: Contact, organizationID: Int64) throws -> (StoredContact, created: Bool) {
        try WriteRules.checkUpsert(externalId: externalId, contact: contact)
        return try single(.upsert(contact), organizationID).result.upserted
    }

    private func single(_ write: ContactWrite, _ organizationID: Int64) throws -> (result: BatchResult, version: Int64) {
        try WriteRules.single { try apply([write], organizationID: organizationID) }
    }
}

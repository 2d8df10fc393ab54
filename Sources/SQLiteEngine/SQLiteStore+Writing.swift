import Contacts
import Foundation
import PhoneNumbers
import StoreContract

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
    func replaceAll(organizationID: Int64, dryRun: Bool = false, nextBatch: () throws -> [Contact]?) throws -> ReplaceOutcome {
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
            if dryRun {
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

    /// Deletes a contact; returns the organization's version with the delete.
    @discardableResult
    public func delete(id: Int64, organizationID: Int64) throws -> Int64 {
        try write(organizationID: organizationID) { write in
            guard try contact(id: id, organizationID: organizationID, in: write.database) != nil else {
                throw ContactStoreError(.notFound, "Contact \(id) does not exist.")
            }
            try write.delete(id)
        }.version
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

    func apply(_ operation: BatchOperation, in write: inout Write) throws -> BatchResult {
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

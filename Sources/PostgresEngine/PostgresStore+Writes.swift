public import Contacts
import Foundation
import Logging
import PostgresNIO
public import StoreContract

/// Single-contact writes, batches and labels on PostgreSQL: each one transaction that locks the
/// organization's row, takes the next version, writes its change-log entries and announces the
/// commit — the SQLite store's `write`, with the same rules.
extension PostgresStore {
    static let selectContact = "SELECT id, version, \(columns.joined(separator: ", ")) FROM contacts"

    /// A write in progress inside one transaction: the organization's row is locked, `version` is
    /// the one this write commits as.
    struct Write: Sendable {
        let connection: PostgresConnection
        let logger: Logger
        let organizationID: Int64
        let version: Int64
        fileprivate(set) var nextContactID: Int64
        fileprivate(set) var changed = false

        @discardableResult
        mutating func insert(_ contact: Contact) async throws -> StoredContact {
            let id = nextContactID
            try await run(ContactStatement<InsertKind>(organizationID: organizationID, id: id, version: version, contact: contact), contact)
            nextContactID += 1
            try await log(id, "upsert")
            return StoredContact(id: id, version: version, contact: contact)
        }

        @discardableResult
        mutating func update(_ id: Int64, to contact: Contact) async throws -> StoredContact {
            try await run(ContactStatement<UpdateKind>(organizationID: organizationID, id: id, version: version, contact: contact), contact)
            try await log(id, "upsert")
            return StoredContact(id: id, version: version, contact: contact)
        }

        mutating func delete(_ id: Int64) async throws {
            _ = try await connection.execute(DeleteContact(organizationID: organizationID, id: id), logger: logger)
            try await log(id, "delete")
        }

        /// Logs a change of the labels; the older labels entry goes (see the SQLite store's).
        mutating func logLabels() async throws {
            try await connection.query("DELETE FROM changes WHERE organization_id = \(organizationID) AND op = 'labels'", logger: logger)
            try await log(0, "labels")
        }

        /// One write by `ContactWrite`'s rules.
        mutating func perform(_ request: ContactWrite) async throws -> BatchResult {
            let existing: StoredContact? = if let key = request.key { try await contact(key) } else { nil }
            switch try request.step(existing: existing) {
            case .insert(let contact):
                return .created(try await insert(contact))
            case .update(let id, let contact):
                return .updated(try await update(id, to: contact))
            case .keep(let existing):
                return .unchanged(existing)
            case .delete(let id):
                try await delete(id)
                return .deleted(id)
            }
        }

        private func contact(_ key: ContactWrite.Key) async throws -> StoredContact? {
            let rows = switch key {
            case .id(let id): try await connection.execute(ContactByID(organizationID: organizationID, id: id), logger: logger)
            case .externalId(let externalId):
                try await connection.execute(ContactByExternalId(organizationID: organizationID, externalId: externalId), logger: logger)
            }
            for try await stored in rows { return stored }
            return nil
        }

        private func run<Statement: PostgresPreparedStatement>(_ statement: Statement, _ contact: Contact) async throws where Statement.Row == () {
            do {
                _ = try await connection.execute(statement, logger: logger)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                throw ContactStoreError(.duplicateExternalId, "externalId '\(contact[.externalId])' already belongs to another contact.")
            }
        }

        private mutating func log(_ id: Int64, _ op: String) async throws {
            _ = try await connection.execute(LogChange(organizationID: organizationID, version: version, contactID: id, op: op), logger: logger)
            changed = true
        }
    }

    /// Runs `body` as one transaction with the organization's next version, bumped (with the
    /// change log compacted now and then, and the commit announced) only if `body` changed
    /// something. Concurrent writes to one organization, from any node, take their turns on the
    /// organization's row lock: versions never collide and the feed has no gaps.
    func write<T: Sendable>(organizationID: Int64, _ body: @escaping @Sendable (inout Write) async throws -> T) async throws -> (T, version: Int64) {
        let logger = self.logger
        return try await transaction { connection in
            var locked: (Int64, Int64)?
            for try await row in try await connection.query(
                "SELECT version, next_contact_id FROM organizations WHERE id = \(organizationID) FOR UPDATE", logger: logger
            ).decode((Int64, Int64).self) { locked = row }
            guard let (current, nextID) = locked else {
                throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.")
            }
            var write = Write(connection: connection, logger: logger, organizationID: organizationID, version: current + 1, nextContactID: nextID)
            let result = try await body(&write)
            guard write.changed else { return (result, current) }
            try await connection.query(
                "UPDATE organizations SET version = \(write.version), next_contact_id = \(write.nextContactID) WHERE id = \(organizationID)",
                logger: logger)
            if write.version % 512 == 0 {
                try await Self.compactChangeLog(
                    organizationID: organizationID, keepingDeletes: ChangeLogRules.minimumRetainedDeletes, below: write.version, connection, logger: logger)
            }
            try await Self.notifyCommit(organizationID: organizationID, version: write.version, connection, logger: logger)
            return (result, write.version)
        }
    }

    // MARK: Reads

    public func contact(id: Int64, organizationID: Int64) async throws -> StoredContact? {
        let logger = self.logger
        return try await withConnection { connection in
            for try await stored in try await connection.execute(ContactByID(organizationID: organizationID, id: id), logger: logger) {
                return stored
            }
            return nil
        }
    }

    public func contactsPage(organizationID: Int64, afterID: Int64, limit: Int) async throws -> [StoredContact] {
        try await rows(PostgresQuery(
            unsafeSQL: Self.selectContact + " WHERE organization_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            binds: Self.binds(organizationID, afterID, Int64(max(0, limit))))) { try Self.storedContact($0, offset: 0) }
    }

    static func binds(_ values: Int64...) -> PostgresBindings {
        var binds = PostgresBindings(capacity: values.count)
        for value in values { binds.append(value) }
        return binds
    }

    // MARK: Writes

    /// The writes in one transaction, by `ContactWrite`'s rules.
    public func apply(_ writes: [ContactWrite], organizationID: Int64) async throws -> (results: [BatchResult], version: Int64) {
        try await write(organizationID: organizationID) { write in try await WriteRules.each(writes) { try await write.perform($0) } }
    }

    /// Sets or clears the organization's field labels (the SQLite store's rules), versioned and
    /// logged like a contact's change.
    public func setLabels(_ changes: [ContactField: String?], organizationID: Int64) async throws -> Organization {
        let checked = try FieldLabels.checked(changes)
        _ = try await write(organizationID: organizationID) { write in
            var stored: String?
            for try await labels in try await write.connection.query(
                "SELECT labels FROM organizations WHERE id = \(organizationID)", logger: write.logger
            ).decode(String.self) { stored = labels }
            let before = FieldLabels.decode(stored ?? "{}")
            let labels = FieldLabels.applying(checked, to: before)
            guard labels != before else { return }
            try await write.connection.query(
                "UPDATE organizations SET labels = \(FieldLabels.encode(labels)) WHERE id = \(organizationID)", logger: write.logger)
            try await write.logLabels()
        }
        guard let organization = try await organization(id: organizationID) else {
            throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.")
        }
        return organization
    }
}

public import Contacts
import Foundation
public import PhoneNumbers
import StoreContract

/// Reading contacts: one, a page, all of an organization (a follower's full load).
extension SQLiteStore {
    static let selectContact = "SELECT id, version, " + Schema.contactColumns.joined(separator: ", ") + " FROM contacts"
    static let selectContactByID = selectContact + " WHERE id = ? AND organization_id = ?"
    static let selectContactsOfOrganization = selectContact + " WHERE organization_id = ? ORDER BY id"
    static let selectContactsByNumber =
        selectContact + " WHERE organization_id = ?1 AND (phone1 = ?2 OR phone2 = ?2) ORDER BY id"
    static let selectContactsPage = selectContact + " WHERE organization_id = ? AND id > ? ORDER BY id LIMIT ?"
    /// The `<> ''` term lets SQLite use the partial unique index on `externalId` (it cannot prove
    /// a bound parameter non-empty); without it every lookup scanned the organization's rows.
    static let selectContactByExternalId =
        selectContact + " WHERE organization_id = ? AND \"externalId\" = ? AND \"externalId\" <> ''"

    static func storedContact(from statement: SQLiteStatement, offset: Int32 = 0) throws -> StoredContact {
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
        try withReader { try Self.contact(id: id, organizationID: organizationID, in: $0) }
    }

    static func contact(id: Int64, organizationID: Int64, in database: SQLiteDatabase) throws -> StoredContact? {
        let statement = try database.statement(Self.selectContactByID)
        statement.binding([.integer(id), .integer(organizationID)])
        return try statement.step() ? storedContact(from: statement) : nil
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
        var contacts: [StoredContact] = []
        let head = try fullLoad(organizationID: organizationID) { contacts.append($0) }
        return FullLoad(contacts: contacts, version: head.version, labels: head.labels)
    }

    /// The full load streamed: each contact handed to `body` as its row is read, in id order, in
    /// one read transaction (an index is built from it without a million contacts held at once).
    public func fullLoad(organizationID: Int64, each body: (StoredContact) throws -> Void) throws -> FullLoadHead {
        try withReader { database in
            try database.execute("BEGIN")
            defer { try? database.execute("COMMIT") }
            guard let organization = try organization(id: organizationID, in: database) else {
                throw ContactStoreError(.unknownOrganization, "Organization \(organizationID) does not exist.")
            }
            let statement = try database.statement(Self.selectContactsOfOrganization)
            statement.bind(1, organizationID)
            while try statement.step() { try body(try Self.storedContact(from: statement)) }
            // Every row passed through this reader's page cache: hand it back.
            database.releaseCache()
            return FullLoadHead(version: organization.version, labels: organization.labels)
        }
    }

    /// One page of an organization's contacts in id order, after `afterID` (a stable cursor:
    /// writes between pages neither repeat nor skip the contacts that stay).
    /// The organization's contacts whose name (either order), organization or email contains
    /// `text` (case-insensitive for ASCII letters), or whose `externalId` is `text`, in id order
    /// after `afterID`.
    public func searchContacts(organizationID: Int64, text: String, afterID: Int64, limit: Int) throws -> [StoredContact] {
        try withReader { database in
            let statement = try database.statement(
                Self.selectContact + " WHERE organization_id = ?1 AND id > ?2 AND (" + ContactSearch.condition("LIKE", pattern: "?3", text: "?4")
                    + ") ORDER BY id LIMIT ?5")
            statement.binding([
                .integer(organizationID), .integer(afterID), .text(ContactSearch.pattern(text)), .text(text), .integer(Int64(max(0, limit))),
            ])
            var result: [StoredContact] = []
            while try statement.step() { result.append(try Self.storedContact(from: statement)) }
            return result
        }
    }

    public func contactsPage(organizationID: Int64, afterID: Int64, limit: Int) throws -> [StoredContact] {
        try withReader { database in
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
        try withReader { database in
            let statement = try database.statement(Self.selectContactsByNumber)
            statement.binding([.integer(organizationID), .text(number.e164)])
            var result: [StoredContact] = []
            while try statement.step() { result.append(try Self.storedContact(from: statement)) }
            return result
        }
    }

    func version(of organizationID: Int64, in database: SQLiteDatabase) throws -> Int64 {
        let statement = try database.statement("SELECT version FROM organizations WHERE id = ?")
        statement.bind(1, organizationID)
        guard try statement.step() else {
            throw ContactStoreError(.unknownOrganization, "Organization \(organizationID) does not exist.")
        }
        return statement.int64(0)
    }
}

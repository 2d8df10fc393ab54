import Contacts
import PostgresNIO
import StoreContract

/// The statements of single-contact writes, prepared once per connection (PostgresNIO names them
/// by type and prepares each on a connection's first use): a REST write sends only its values.
protocol ContactStatementKind: Sendable {
    static var sql: String { get }
}

enum InsertKind: ContactStatementKind {
    static let sql =
        "INSERT INTO contacts (organization_id, id, version, \(PostgresStore.columns.joined(separator: ", "))) VALUES ("
        + (1...(3 + PostgresStore.columns.count)).map { "$\($0)" }.joined(separator: ", ") + ")"
}

enum UpdateKind: ContactStatementKind {
    static let sql =
        "UPDATE contacts SET version = $3, " + PostgresStore.columns.enumerated().map { "\($1) = $\($0 + 4)" }.joined(separator: ", ")
        + " WHERE organization_id = $1 AND id = $2"
}

/// An insert or update of one contact: organization, id, version, then the record's values.
struct ContactStatement<Kind: ContactStatementKind>: PostgresPreparedStatement {
    typealias Row = ()
    static var sql: String { Kind.sql }
    let organizationID: Int64
    let id: Int64
    let version: Int64
    let contact: Contact

    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresBindings(capacity: 3 + ContactField.allCases.count)
        binds.append(organizationID)
        binds.append(id)
        binds.append(version)
        for value in contact.values { binds.append(value) }
        return binds
    }

    func decodeRow(_ row: PostgresRow) throws {}
}

struct DeleteContact: PostgresPreparedStatement {
    typealias Row = ()
    static let sql = "DELETE FROM contacts WHERE organization_id = $1 AND id = $2"
    let organizationID: Int64
    let id: Int64

    func makeBindings() throws -> PostgresBindings { PostgresStore.binds(organizationID, id) }
    func decodeRow(_ row: PostgresRow) throws {}
}

/// A change-log entry; a later entry of the same contact in the same version replaces it (an
/// upsert then a delete in one batch logs the delete).
struct LogChange: PostgresPreparedStatement {
    typealias Row = ()
    static let sql = """
        INSERT INTO changes (organization_id, version, contact_id, op) VALUES ($1, $2, $3, $4)
        ON CONFLICT (organization_id, version, contact_id) DO UPDATE SET op = EXCLUDED.op
        """
    let organizationID: Int64
    let version: Int64
    let contactID: Int64
    let op: String

    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresStore.binds(organizationID, version, contactID)
        binds.append(op)
        return binds
    }

    func decodeRow(_ row: PostgresRow) throws {}
}

struct ContactByID: PostgresPreparedStatement {
    typealias Row = StoredContact
    static let sql = PostgresStore.selectContact + " WHERE organization_id = $1 AND id = $2"
    let organizationID: Int64
    let id: Int64

    func makeBindings() throws -> PostgresBindings { PostgresStore.binds(organizationID, id) }
    func decodeRow(_ row: PostgresRow) throws -> StoredContact { try PostgresStore.storedContact(row, offset: 0) }
}

struct ContactByExternalId: PostgresPreparedStatement {
    typealias Row = StoredContact
    static let sql = PostgresStore.selectContact + #" WHERE organization_id = $1 AND "externalId" = $2 AND "externalId" <> ''"#
    let organizationID: Int64
    let externalId: String

    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresBindings(capacity: 2)
        binds.append(organizationID)
        binds.append(externalId)
        return binds
    }

    func decodeRow(_ row: PostgresRow) throws -> StoredContact { try PostgresStore.storedContact(row, offset: 0) }
}

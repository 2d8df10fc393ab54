public import Contacts
import Foundation
import PhoneNumbers
public import StoreContract

/// Organizations, their labels and settings, users and their passwords.
extension SQLiteStore {
    @discardableResult
    public func createOrganization(name: String, defaultRegion: String = "CZ", suffixDigits: Int = 9) throws -> Organization {
        let (name, region, suffixDigits) = try OrganizationRules.checked(name: name, defaultRegion: defaultRegion, suffixDigits: suffixDigits)
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

    /// Changes the default region and/or the suffix length of an organization (the rules of
    /// `createOrganization`); returns it before and after. Serving nodes rebuild its index and
    /// re-check the credentials that carry it.
    public func updateOrganization(id: Int64, defaultRegion: String?, suffixDigits: Int?) throws -> (before: Organization, after: Organization) {
        try withDatabase { database in
            try database.transaction {
                guard let current = try organization(id: id, in: database) else {
                    throw ContactStoreError(.unknownOrganization, "Organization \(id) does not exist.")
                }
                let (_, region, digits) = try OrganizationRules.checked(
                    name: current.name, defaultRegion: defaultRegion ?? current.defaultRegion, suffixDigits: suffixDigits ?? current.suffixDigits)
                try database.statement("UPDATE organizations SET default_region = ?, suffix_digits = ? WHERE id = ?")
                    .binding([.text(region), .integer(Int64(digits)), .integer(current.id)]).run()
                try Self.bumpCredentialsVersion(in: database)
                return (current, try organization(id: current.id, in: database)!)
            }
        }
    }

    public func organization(named name: String) throws -> Organization? {
        try withReader { try organization(named: name, in: $0) }
    }

    public func organization(id: Int64) throws -> Organization? {
        try withReader { try organization(id: id, in: $0) }
    }

    func organization(id: Int64, in database: SQLiteDatabase) throws -> Organization? {
        let statement = try database.statement(
            "SELECT id, name, default_region, suffix_digits, version, labels FROM organizations WHERE id = ?")
        statement.bind(1, id)
        return try statement.step() ? Self.organization(from: statement) : nil
    }

    public func organizations() throws -> [Organization] {
        try withReader { try Self.organizations(in: $0) }
    }

    static func organizations(in database: SQLiteDatabase) throws -> [Organization] {
        let statement = try database.statement(
            "SELECT id, name, default_region, suffix_digits, version, labels FROM organizations ORDER BY name")
        var result: [Organization] = []
        while try statement.step() { result.append(Self.organization(from: statement)) }
        return result
    }

    func organization(named name: String, in database: SQLiteDatabase) throws -> Organization? {
        let statement = try database.statement(
            "SELECT id, name, default_region, suffix_digits, version, labels FROM organizations WHERE name = ?")
        statement.bind(1, name)
        return try statement.step() ? Self.organization(from: statement) : nil
    }

    static func organization(from statement: SQLiteStatement) -> Organization {
        Organization(id: statement.int64(0), name: statement.string(1), defaultRegion: statement.string(2),
                     suffixDigits: Int(statement.int64(3)), version: statement.int64(4),
                     labels: FieldLabels.decode(statement.string(5)))
    }

    /// Sets or clears (`nil` or empty) the organization's names for fields and returns the
    /// organization with its new labels. Labels are trimmed and at most 64 characters long.
    ///
    /// A real change is versioned like a contact's: it bumps the organization's version and is
    /// logged, so every follower — other API nodes, mirrors — applies it in order.
    public func setLabels(_ changes: [ContactField: String?], organizationID: Int64) throws -> Organization {
        let trimmed = try FieldLabels.checked(changes)
        _ = try write(organizationID: organizationID) { write in
            guard let before = try organization(id: organizationID, in: write.database)?.labels else {
                throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.")
            }
            let labels = FieldLabels.applying(trimmed, to: before)
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
    public func addUser(login: String, password: String, role: UserRole = .admin, organizationID: Int64) throws {
        let login = try UserRules.checked(login: login, password: password)
        guard let hash = PasswordHash.make(password) else {
            throw ContactStoreError(.database, "The system could not hash the password (no random source?).")
        }
        try withDatabase { database in
            do {
                try database.statement("INSERT INTO users (login, password_hash, organization_id, role, session_epoch) VALUES (?, ?, ?, ?, ?)")
                    .binding([.text(login), .text(hash), .integer(organizationID), .text(role.rawValue), .integer(UserRules.newSessionEpoch())])
                    .run()
            } catch let error as SQLiteError where error.isUniqueViolation {
                throw ContactStoreError(.loginTaken, "The login '\(login)' is taken.")
            }
        }
    }

    /// The organization of the user whose login and password these are, or `nil`.
    public func authenticate(login: String, password: String) throws -> Organization? {
        try signIn(login: login, password: password)?.organization
    }
}

import Contacts
import Foundation
import PhoneNumbers

/// Organizations, their labels and settings, users and their passwords.
extension ContactStore {
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

/// The rules of an organization's settings, the same for every store engine.
package enum OrganizationRules {
    /// The trimmed name, the upper-cased region and the suffix length, or the rule they break.
    package static func checked(name: String, defaultRegion: String, suffixDigits: Int) throws -> (String, String, Int) {
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
        return (name, region, suffixDigits)
    }
}

/// The rules of a user's login and password, the same for every store engine.
package enum UserRules {
    /// A new user's first session epoch: random, 62 bits, so a login removed and created again
    /// never starts at an epoch its removed namesake's sessions (cookies, popup links) were signed
    /// with. Later epochs count up from it.
    package static func newSessionEpoch() -> Int64 {
        Int64.random(in: (1 << 32)..<(1 << 62))
    }

    /// The trimmed login, or the rule the login or password breaks.
    package static func checked(login: String, password: String) throws -> String {
        let login = login.trimmingWhitespace()
        guard !login.isEmpty, login.unicodeScalars.count <= 255, !login.contains(":") else {
            throw ContactStoreError(.invalidInput, "A login must have 1 to 255 characters and no ':' (HTTP Basic authentication splits on it).")
        }
        guard !password.isEmpty else {
            throw ContactStoreError(.invalidInput, "The password is empty.")
        }
        guard login != ContactStore.tokenLogin else {
            throw ContactStoreError(.invalidInput, "The login '\(login)' is reserved: HTTP Basic with it carries an access token.")
        }
        // The server refuses credentials with control characters before any hash, so such a user
        // could never log in.
        guard !(login + password).unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) }) else {
            throw ContactStoreError(.invalidInput, "A login or password must not contain control characters (a NUL, a tab, a line break).")
        }
        return login
    }

    /// Hashed for an unknown login, so its answer takes as long as a wrong password's.
    package static let decoyHash = PasswordHash.make("decoy") ?? "*"
}

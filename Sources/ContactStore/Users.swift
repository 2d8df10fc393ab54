import Foundation

/// What a user of an organization may do. Each role includes the ones before it, as the access
/// token scopes do: `reader` looks callers up (lookups, the popup, the phonebooks, the contact
/// pages), `editor` also changes single contacts, `admin` also replaces all contacts (upload),
/// sets labels and manages tokens and users.
public enum UserRole: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case reader
    case editor
    case admin

    /// The access scope the role grants.
    public var scope: AccessScope {
        switch self {
        case .reader: .lookup
        case .editor: .write
        case .admin: .admin
        }
    }

    public static func < (lhs: UserRole, rhs: UserRole) -> Bool { lhs.scope < rhs.scope }
    public var description: String { rawValue }
}

/// A user as listed: never the password's hash.
public struct UserAccount: Hashable, Sendable {
    public let login: String
    public let organizationID: Int64
    public let role: UserRole
    /// Moves when the user's password changes or they sign out everywhere: sessions signed before
    /// it end.
    public let sessionEpoch: Int64

    package init(login: String, organizationID: Int64, role: UserRole, sessionEpoch: Int64) {
        (self.login, self.organizationID, self.role, self.sessionEpoch) = (login, organizationID, role, sessionEpoch)
    }
}

/// A user whose login and password were right, with their organization.
public struct SignedInUser: Sendable {
    public let organization: Organization
    public let account: UserAccount

    package init(organization: Organization, account: UserAccount) {
        self.organization = organization
        self.account = account
    }
}

extension UserRules {
    /// An organization must keep an admin: refuses to demote or remove the last one.
    package static func keepsAnAdmin(otherAdmins: Int, login: String) throws {
        guard otherAdmins > 0 else {
            throw ContactStoreError(.invalidInput, "'\(login)' is the organization's last admin; make another user admin first.")
        }
    }

    /// The key that signs the admin pages' session cookies, derived from the store's secret (so
    /// every node on the store accepts every node's sessions).
    package static func sessionKey(from secret: [UInt8]) -> [UInt8] {
        Crypto.hmacSHA256(key: secret, Array("caller-lookup session key v1".utf8))
    }
}

/// Users and their roles in the SQLite store. Changing a role or a password, or removing a user,
/// moves the credentials version: every node forgets the credentials it remembered.
extension ContactStore {
    static let selectUser = "SELECT login, organization_id, role, session_epoch FROM users"

    static func account(from statement: SQLiteStatement) -> UserAccount {
        UserAccount(
            login: statement.string(0), organizationID: statement.int64(1), role: UserRole(rawValue: statement.string(2)) ?? .reader,
            sessionEpoch: statement.int64(3))
    }

    /// The organization's users, by login.
    public func users(organizationID: Int64) throws -> [UserAccount] {
        try withReader { database in
            let statement = try database.statement(Self.selectUser + " WHERE organization_id = ? ORDER BY login")
            statement.bind(1, organizationID)
            var users: [UserAccount] = []
            while try statement.step() { users.append(Self.account(from: statement)) }
            return users
        }
    }

    /// The user with this login, whatever their organization.
    public func user(login: String) throws -> UserAccount? {
        try withReader { database in
            let statement = try database.statement(Self.selectUser + " WHERE login = ?")
            statement.bind(1, login)
            return try statement.step() ? Self.account(from: statement) : nil
        }
    }

    /// The user and organization these credentials belong to, or `nil`.
    public func signIn(login: String, password: String) throws -> SignedInUser? {
        let stored: (hash: String, account: UserAccount)? = try withReader { database in
            let statement = try database.statement(
                "SELECT login, organization_id, role, session_epoch, password_hash FROM users WHERE login = ?")
            statement.bind(1, login)
            return try statement.step() ? (statement.string(4), Self.account(from: statement)) : nil
        }
        // Hash even for an unknown login, so its answer takes as long as a wrong password's.
        let hash = stored?.hash ?? UserRules.decoyHash
        guard PasswordHash.verify(password, against: hash), let stored,
            let organization = try organization(id: stored.account.organizationID)
        else { return nil }
        return SignedInUser(organization: organization, account: stored.account)
    }

    /// Changes a user's role, password (ending their sessions), or both.
    @discardableResult
    public func updateUser(login: String, organizationID: Int64, role: UserRole?, password: String?) throws -> UserAccount {
        let hash = try password.map { password in
            _ = try UserRules.checked(login: login, password: password)
            guard let hash = PasswordHash.make(password) else {
                throw ContactStoreError(.database, "The system could not hash the password (no random source?).")
            }
            return hash
        }
        return try withDatabase { database in
            try database.transaction {
                let account = try Self.account(login, organizationID, in: database)
                if let role, role != .admin, account.role == .admin {
                    try UserRules.keepsAnAdmin(otherAdmins: try Self.otherAdmins(login, organizationID, in: database), login: login)
                }
                if let role {
                    try database.statement("UPDATE users SET role = ? WHERE login = ?").binding([.text(role.rawValue), .text(login)]).run()
                }
                if let hash {
                    try database.statement("UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1 WHERE login = ?")
                        .binding([.text(hash), .text(login)]).run()
                }
                try Self.bumpCredentialsVersion(in: database)
                return try Self.account(login, organizationID, in: database)
            }
        }
    }

    /// Ends every session of the user (signing out everywhere).
    public func endSessions(login: String, organizationID: Int64) throws {
        try withDatabase { database in
            try database.statement("UPDATE users SET session_epoch = session_epoch + 1 WHERE login = ? AND organization_id = ?")
                .binding([.text(login), .integer(organizationID)]).run()
        }
    }

    /// Removes a user (never the organization's last admin).
    public func removeUser(login: String, organizationID: Int64) throws {
        try withDatabase { database in
            try database.transaction {
                let account = try Self.account(login, organizationID, in: database)
                if account.role == .admin {
                    try UserRules.keepsAnAdmin(otherAdmins: try Self.otherAdmins(login, organizationID, in: database), login: login)
                }
                try database.statement("DELETE FROM users WHERE login = ?").binding([.text(login)]).run()
                try Self.bumpCredentialsVersion(in: database)
            }
        }
    }

    /// The organization's user with this login, or `notFound`.
    private static func account(_ login: String, _ organizationID: Int64, in database: SQLiteDatabase) throws -> UserAccount {
        let statement = try database.statement(selectUser + " WHERE login = ? AND organization_id = ?")
        statement.binding([.text(login), .integer(organizationID)])
        defer { statement.reset() }
        guard try statement.step() else { throw ContactStoreError(.notFound, "The organization has no user '\(login)'.") }
        return account(from: statement)
    }

    private static func otherAdmins(_ login: String, _ organizationID: Int64, in database: SQLiteDatabase) throws -> Int {
        let statement = try database.statement("SELECT count(*) FROM users WHERE organization_id = ? AND role = 'admin' AND login <> ?")
        statement.binding([.integer(organizationID), .text(login)])
        _ = try statement.step()
        defer { statement.reset() }
        return Int(statement.int64(0))
    }

    /// The key of the admin pages' session cookies.
    public func sessionKey() -> [UInt8] { UserRules.sessionKey(from: popupSecret) }
}

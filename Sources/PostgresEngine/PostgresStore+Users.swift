public import Contacts
import Foundation
import Logging
import PostgresNIO
public import StoreContract
import ThreadSupport

/// Users and their roles on PostgreSQL, by the SQLite store's rules (`Users.swift`): yescrypt
/// hashes, an organization never without an admin, the credentials version moved by every change.
extension PostgresStore {
    static let selectUser = "SELECT login, organization_id, role, session_epoch FROM users"

    static func account(_ row: PostgresRow) throws -> UserAccount {
        let (login, organizationID, role, epoch) = try row.decode((String, Int64, String, Int64).self)
        return UserAccount(login: login, organizationID: organizationID, role: UserRole(rawValue: role) ?? .reader, sessionEpoch: epoch)
    }

    /// Adds a user; the password is kept only as a yescrypt hash (the same as the SQLite store's).
    public func addUser(login: String, password: String, role: UserRole = .admin, organizationID: Int64) async throws {
        let login = try UserRules.checked(login: login, password: password)
        guard let hash = await offCooperativePool({ PasswordHash.make(password) }) else {
            throw ContactStoreError(.database, "The system could not hash the password (no random source?).")
        }
        do {
            _ = try await rows("""
                INSERT INTO users (login, password_hash, organization_id, role, session_epoch)
                VALUES (\(login), \(hash), \(organizationID), \(role.rawValue), \(UserRules.newSessionEpoch()))
                """) { _ in }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw ContactStoreError(.loginTaken, "The login '\(login)' is taken.")
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
            throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.")
        }
    }

    /// The organization of the user whose login and password these are, or `nil`.
    public func authenticate(login: String, password: String) async throws -> Organization? {
        try await signIn(login: login, password: password)?.organization
    }

    public func signIn(login: String, password: String) async throws -> SignedInUser? {
        let stored = try await rows(
            "SELECT login, organization_id, role, session_epoch, password_hash FROM users WHERE login = \(login)"
        ) { (account: try Self.account($0), hash: try $0.decode((String, Int64, String, Int64, String).self).4) }.first
        // Hash even for an unknown login, so its answer takes as long as a wrong password's.
        let hash = stored?.hash ?? UserRules.decoyHash
        let matches = await offCooperativePool { PasswordHash.verify(password, against: hash) }
        guard matches, let stored, let organization = try await organization(id: stored.account.organizationID) else { return nil }
        return SignedInUser(organization: organization, account: stored.account)
    }

    public func user(login: String) async throws -> UserAccount? {
        try await rows(PostgresQuery(unsafeSQL: Self.selectUser + " WHERE login = $1", binds: Self.textBinds(login))) { try Self.account($0) }.first
    }

    public func users(organizationID: Int64) async throws -> [UserAccount] {
        try await rows(PostgresQuery(unsafeSQL: Self.selectUser + " WHERE organization_id = $1 ORDER BY login", binds: Self.binds(organizationID))) {
            try Self.account($0)
        }
    }

    public func updateUser(login: String, organizationID: Int64, role: UserRole?, password: String?) async throws -> UserAccount {
        var hash: String?
        if let password {
            _ = try UserRules.checked(login: login, password: password)
            hash = await offCooperativePool { PasswordHash.make(password) }
            guard hash != nil else { throw ContactStoreError(.database, "The system could not hash the password (no random source?).") }
        }
        let (logger, newHash) = (self.logger, hash)
        return try await transaction { connection in
            let account = try await Self.lockedUser(login, organizationID, connection, logger: logger)
            if let role, role != .admin, account.role == .admin {
                try UserRules.keepsAnAdmin(otherAdmins: try await Self.otherAdmins(login, organizationID, connection, logger: logger), login: login)
            }
            if let role { try await connection.query("UPDATE users SET role = \(role.rawValue) WHERE login = \(login)", logger: logger) }
            if let newHash {
                try await connection.query(
                    "UPDATE users SET password_hash = \(newHash), session_epoch = session_epoch + 1 WHERE login = \(login)", logger: logger)
            }
            try await Self.bumpCredentialsVersion(connection, logger: logger)
            return try await Self.lockedUser(login, organizationID, connection, logger: logger)
        }
    }

    public func endSessions(login: String, organizationID: Int64) async throws {
        _ = try await rows(
            "UPDATE users SET session_epoch = session_epoch + 1 WHERE login = \(login) AND organization_id = \(organizationID) RETURNING 1") { _ in }
    }

    public func removeUser(login: String, organizationID: Int64) async throws {
        let logger = self.logger
        try await transaction { connection in
            let account = try await Self.lockedUser(login, organizationID, connection, logger: logger)
            if account.role == .admin {
                try UserRules.keepsAnAdmin(otherAdmins: try await Self.otherAdmins(login, organizationID, connection, logger: logger), login: login)
            }
            try await connection.query("DELETE FROM users WHERE login = \(login)", logger: logger)
            try await Self.bumpCredentialsVersion(connection, logger: logger)
        }
    }

    public func sessionKey() async throws -> [UInt8] { UserRules.sessionKey(from: try await popupSecret()) }

    /// The user, its organization's users locked meanwhile (two nodes cannot both demote the
    /// last two admins).
    private static func lockedUser(_ login: String, _ organizationID: Int64, _ connection: PostgresConnection, logger: Logger) async throws -> UserAccount {
        try await connection.query("SELECT 1 FROM users WHERE organization_id = \(organizationID) FOR UPDATE", logger: logger)
        for try await row in try await connection.query(
            PostgresQuery(unsafeSQL: selectUser + " WHERE login = $1 AND organization_id = $2", binds: textBinds(login, organizationID)), logger: logger
        ) { return try account(row) }
        throw ContactStoreError(.notFound, "The organization has no user '\(login)'.")
    }

    private static func otherAdmins(_ login: String, _ organizationID: Int64, _ connection: PostgresConnection, logger: Logger) async throws -> Int {
        var count = 0
        for try await value in try await connection.query(
            "SELECT count(*) FROM users WHERE organization_id = \(organizationID) AND role = 'admin' AND login <> \(login)", logger: logger
        ).decode(Int64.self) { count = Int(value) }
        return count
    }

    static func textBinds(_ text: String, _ number: Int64? = nil) -> PostgresBindings {
        var binds = PostgresBindings(capacity: 2)
        binds.append(text)
        if let number { binds.append(number) }
        return binds
    }

    // MARK: Search

    public func searchContacts(organizationID: Int64, text: String, afterID: Int64, limit: Int) async throws -> [StoredContact] {
        var binds = Self.binds(organizationID, afterID)
        binds.append(ContactSearch.pattern(text))
        binds.append(text)
        binds.append(Int64(max(0, limit)))
        let sql = Self.selectContact + " WHERE organization_id = $1 AND id > $2 AND ("
            + ContactSearch.condition("ILIKE", pattern: "$3", text: "$4") + ") ORDER BY id LIMIT $5"
        return try await rows(PostgresQuery(unsafeSQL: sql, binds: binds)) { try Self.storedContact($0, offset: 0) }
    }
}

public import StoreContract
/// Users and their roles in the SQLite store. Changing a role or a password, or removing a user,
/// moves the credentials version: every node forgets the credentials it remembered.
extension SQLiteStore {
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

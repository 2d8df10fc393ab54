import Foundation
public import StoreContract

/// Access tokens in the SQLite store (the rules: `AccessTokenRules`).
extension SQLiteStore {
    /// Creates a token and returns it with its secret — the only time the secret exists outside
    /// the caller's hands.
    public func createToken(organizationID: Int64, scope: AccessScope, label: String = "") throws -> (token: AccessToken, secret: String) {
        let label = try AccessTokenRules.checkedTokenLabel(label)
        let secret = AccessTokenRules.newTokenSecret()
        let created = Int64(Date().timeIntervalSince1970)
        let prefix = String(secret.prefix(10))
        let id: Int64 = try withDatabase { database in
            try database.transaction {
                guard try organization(id: organizationID, in: database) != nil else {
                    throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.")
                }
                let next = try database.statement("SELECT coalesce(max(id), 0) + 1 FROM tokens WHERE organization_id = ?")
                next.bind(1, organizationID)
                _ = try next.step()
                let id = next.int64(0)
                try database.statement(
                    "INSERT INTO tokens (organization_id, id, scope, label, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                ).binding([
                    .integer(organizationID), .integer(id), .text(scope.rawValue), .text(label), .text(prefix),
                    .text(AccessTokenRules.tokenHash(secret)), .integer(created),
                ]).run()
                return id
            }
        }
        let token = AccessToken(
            id: id, organizationID: organizationID, scope: scope, label: label, prefix: prefix, created: created, revoked: nil)
        return (token, secret)
    }

    /// The organization's tokens, revoked ones too, by id.
    public func tokens(organizationID: Int64) throws -> [AccessToken] {
        try withReader { database in
            let statement = try database.statement(
                "SELECT id, organization_id, scope, label, prefix, created_at, revoked_at FROM tokens WHERE organization_id = ? ORDER BY id")
            statement.bind(1, organizationID)
            var tokens: [AccessToken] = []
            while try statement.step() { tokens.append(Self.token(from: statement)) }
            return tokens
        }
    }

    /// Revokes a token (at once for this process's callers once it forgets its remembered
    /// credentials; other processes on the store see the credentials version move). Revoking a
    /// revoked token changes nothing and returns it as it is.
    @discardableResult
    public func revokeToken(id: Int64, organizationID: Int64) throws -> AccessToken {
        try withDatabase { database in
            try database.transaction {
                try database.statement("UPDATE tokens SET revoked_at = ? WHERE organization_id = ? AND id = ? AND revoked_at IS NULL")
                    .binding([.integer(Int64(Date().timeIntervalSince1970)), .integer(organizationID), .integer(id)]).run()
                if database.changes > 0 { try Self.bumpCredentialsVersion(in: database) }
                let statement = try database.statement(
                    "SELECT id, organization_id, scope, label, prefix, created_at, revoked_at FROM tokens WHERE organization_id = ? AND id = ?")
                statement.binding([.integer(organizationID), .integer(id)])
                guard try statement.step() else {
                    throw ContactStoreError(.notFound, "The organization has no token \(id).")
                }
                return Self.token(from: statement)
            }
        }
    }

    /// The organization and scope of an unrevoked token, or `nil`.
    public func authenticate(token: String) throws -> TokenGrant? {
        guard AccessTokenRules.isTokenShaped(token) else { return nil }
        let found: (organizationID: Int64, id: Int64, scope: AccessScope)? = try withReader { database in
            let statement = try database.statement(
                "SELECT organization_id, id, scope FROM tokens WHERE hash = ? AND revoked_at IS NULL")
            statement.bind(1, AccessTokenRules.tokenHash(token))
            guard try statement.step(), let scope = AccessScope(rawValue: statement.string(2)) else { return nil }
            return (statement.int64(0), statement.int64(1), scope)
        }
        guard let found, let organization = try organization(id: found.organizationID) else { return nil }
        return TokenGrant(organization: organization, scope: found.scope, tokenID: found.id)
    }

    /// A number that moves whenever credentials stop being valid (a token revoked, a popup link
    /// rotated): every process on the store forgets what it remembered when it sees it move.
    public func credentialsVersion() throws -> Int64 {
        try withReader { database in
            let statement = try database.statement("SELECT value FROM settings WHERE key = 'credentials-version'")
            return try statement.step() ? statement.int64(0) : 0
        }
    }

    static func bumpCredentialsVersion(in database: SQLiteDatabase) throws {
        try database.statement("UPDATE settings SET value = value + 1 WHERE key = 'credentials-version'").run()
    }

    private static func token(from statement: SQLiteStatement) -> AccessToken {
        AccessToken(
            id: statement.int64(0), organizationID: statement.int64(1), scope: AccessScope(rawValue: statement.string(2)) ?? .lookup,
            label: statement.string(3), prefix: statement.string(4), created: statement.int64(5),
            revoked: statement.isNull(6) ? nil : statement.int64(6))
    }
}

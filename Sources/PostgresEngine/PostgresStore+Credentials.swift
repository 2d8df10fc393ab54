import Synchronization
public import Contacts
import Foundation
import Logging
import PostgresNIO
public import StoreContract
import ThreadSupport

/// Access tokens, popup links and the credentials version on PostgreSQL, by the SQLite store's
/// rules (`AccessTokens.swift`, `PopupTokens.swift`): the same token form and hash, the same
/// signed links, so a store moved from one engine to the other keeps its tokens valid.
extension PostgresStore {
    static let selectToken = "SELECT id, organization_id, scope, label, prefix, created_at, revoked_at FROM tokens"

    public func createToken(organizationID: Int64, scope: AccessScope, label: String = "") async throws -> (token: AccessToken, secret: String) {
        let label = try AccessTokenRules.checkedTokenLabel(label)
        let secret = AccessTokenRules.newTokenSecret()
        let created = Int64(Date().timeIntervalSince1970)
        let prefix = String(secret.prefix(10))
        let hash = AccessTokenRules.tokenHash(secret)
        let logger = self.logger
        let id: Int64 = try await transaction { connection in
            // The organization's row lock numbers its tokens without races between nodes.
            var found = false
            for try await _ in try await connection.query("SELECT id FROM organizations WHERE id = \(organizationID) FOR UPDATE", logger: logger) {
                found = true
            }
            guard found else { throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.") }
            var id: Int64 = 1
            for try await next in try await connection.query(
                "SELECT coalesce(max(id), 0) + 1 FROM tokens WHERE organization_id = \(organizationID)", logger: logger
            ).decode(Int64.self) { id = next }
            try await connection.query("""
                INSERT INTO tokens (organization_id, id, scope, label, prefix, hash, created_at)
                VALUES (\(organizationID), \(id), \(scope.rawValue), \(label), \(prefix), \(hash), \(created))
                """, logger: logger)
            return id
        }
        let token = AccessToken(id: id, organizationID: organizationID, scope: scope, label: label, prefix: prefix, created: created, revoked: nil)
        return (token, secret)
    }

    public func tokens(organizationID: Int64) async throws -> [AccessToken] {
        try await rows(PostgresQuery(unsafeSQL: Self.selectToken + " WHERE organization_id = $1 ORDER BY id", binds: Self.binds(organizationID))) {
            try Self.token($0)
        }
    }

    public func revokeToken(id: Int64, organizationID: Int64) async throws -> AccessToken {
        let logger = self.logger
        let now = Int64(Date().timeIntervalSince1970)
        return try await transaction { connection in
            var revoked = false
            for try await _ in try await connection.query(
                "UPDATE tokens SET revoked_at = \(now) WHERE organization_id = \(organizationID) AND id = \(id) AND revoked_at IS NULL RETURNING id",
                logger: logger
            ) { revoked = true }
            if revoked { try await Self.bumpCredentialsVersion(connection, logger: logger) }
            for try await row in try await connection.query(
                PostgresQuery(unsafeSQL: Self.selectToken + " WHERE organization_id = $1 AND id = $2", binds: Self.binds(organizationID, id)),
                logger: logger
            ) { return try Self.token(row) }
            throw ContactStoreError(.notFound, "The organization has no token \(id).")
        }
    }

    public func authenticate(token: String) async throws -> TokenGrant? {
        guard AccessTokenRules.isTokenShaped(token) else { return nil }
        let hash = AccessTokenRules.tokenHash(token)
        guard let (organizationID, id, scope) = try await rows(
            "SELECT organization_id, id, scope FROM tokens WHERE hash = \(hash) AND revoked_at IS NULL", { try $0.decode((Int64, Int64, String).self) }
        ).first, let scope = AccessScope(rawValue: scope), let organization = try await organization(id: organizationID) else { return nil }
        return TokenGrant(organization: organization, scope: scope, tokenID: id)
    }

    public func credentialsVersion() async throws -> Int64 {
        try await rows("SELECT value::bigint FROM settings WHERE key = 'credentials-version'") { try $0.decode(Int64.self) }.first ?? 0
    }

    static func bumpCredentialsVersion(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "UPDATE settings SET value = (value::bigint + 1)::text WHERE key = 'credentials-version'", logger: logger)
    }

    private static func token(_ row: PostgresRow) throws -> AccessToken {
        let (id, organizationID, scope, label, prefix, created, revoked) = try row.decode((Int64, Int64, String, String, String, Int64, Int64?).self)
        return AccessToken(
            id: id, organizationID: organizationID, scope: AccessScope(rawValue: scope) ?? .lookup, label: label, prefix: prefix,
            created: created, revoked: revoked)
    }

    // MARK: Popup links

    public func popupToken(organizationID: Int64) async throws -> String {
        guard let epoch = try await rows("SELECT popup_epoch FROM organizations WHERE id = \(organizationID)", { try $0.decode(Int64.self) }).first else {
            throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.")
        }
        return try PopupTokenRules.signedPopupToken(organizationID: organizationID, epoch: epoch, key: try await popupSecret())
    }

    public func rotatePopupToken(organizationID: Int64) async throws -> String {
        let logger = self.logger
        let epoch: Int64 = try await transaction { connection in
            var epoch: Int64?
            for try await value in try await connection.query(
                "UPDATE organizations SET popup_epoch = popup_epoch + 1 WHERE id = \(organizationID) RETURNING popup_epoch", logger: logger
            ).decode(Int64.self) { epoch = value }
            guard let epoch else { throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.") }
            try await Self.bumpCredentialsVersion(connection, logger: logger)
            return epoch
        }
        return try PopupTokenRules.signedPopupToken(organizationID: organizationID, epoch: epoch, key: try await popupSecret())
    }

    public func organization(popupToken token: String) async throws -> Organization? {
        guard let (id, epoch) = PopupTokenRules.popupTokenParts(token), let organization = try await organization(id: id),
            try await rows("SELECT popup_epoch FROM organizations WHERE id = \(id)", { try $0.decode(Int64.self) }).first == epoch,
            try PopupTokenRules.popupToken(token, isSignedWith: try await popupSecret())
        else { return nil }
        return organization
    }

    /// The signing key, created by the first node that needs it and then kept in memory.
    func popupSecret() async throws -> [UInt8] {
        if let key = popupKey.withLock({ $0 }) { return key }
        let fresh = PopupTokenRules.newPopupSecret()
        let logger = self.logger
        let hex: String = try await transaction { connection in
            try await connection.query(
                "INSERT INTO settings (key, value) VALUES ('popup-secret', \(fresh)) ON CONFLICT (key) DO NOTHING", logger: logger)
            for try await value in try await connection.query("SELECT value FROM settings WHERE key = 'popup-secret'", logger: logger).decode(String.self) {
                return value
            }
            throw ContactStoreError(.database, "The popup secret is missing.")
        }
        let key = PopupTokenRules.popupSecret(hex: hex)
        popupKey.withLock { $0 = key }
        return key
    }
}

/// The PostgreSQL store as a serving node's store of record.
extension PostgresStore: RecordStore {
    public var engine: String { "postgresql" }

    public func committedOrganizations() async throws -> [Organization] { try await organizations() }
    public func committedOrganizationsBlocking() throws -> [Organization] { try waitBlocking { [self] in try await organizations() } }

    /// Sums every organization's version, their number and the credentials version: each only
    /// grows, so the sum moves with every commit of any node.
    public func commitCounter() async throws -> Int64 {
        try await rows("""
            SELECT (SELECT coalesce(sum(version), 0)::bigint + count(*) FROM organizations)
                 + (SELECT coalesce(max(value::bigint), 0) FROM settings WHERE key = 'credentials-version')
            """) { try $0.decode(Int64.self) }.first ?? 0
    }

    public func watchCommits(_ commit: @escaping @Sendable () -> Void) async throws {
        try await followCommits { _, _ in commit() }
    }

    public func changeSource(organizationID: Int64) -> any ChangeSource {
        PostgresChangeSource(store: self, organizationID: organizationID)
    }
}

/// One organization of the PostgreSQL store as an index follower's `ChangeSource`: the follower's
/// own thread waits while the query runs on the event loop.
struct PostgresChangeSource: ChangeSource {
    let store: PostgresStore
    let organizationID: Int64

    func loadAll() throws -> FullLoad {
        try waitBlocking { [store, organizationID] in try await store.fullLoad(organizationID: organizationID) }
    }

    func loadAll(each body: (StoredContact) throws -> Void) throws -> FullLoadHead {
        try withoutActuallyEscaping(body) { body in
            let sink = BlockedCaller(body)
            return try waitBlocking { [store, organizationID] in
                try await store.fullLoad(organizationID: organizationID) { try sink.body($0) }
            }
        }
    }

    func changes(after version: Int64, limit: Int) throws -> ChangeBatch {
        try waitBlocking { [store, organizationID] in try await store.changes(organizationID: organizationID, after: version, limit: limit) }
    }

    func hasChanges(moreThan count: Int, after version: Int64) throws -> Bool? {
        try waitBlocking { [store, organizationID] in try await store.hasChanges(organizationID: organizationID, moreThan: count, after: version) }
    }
}

/// The follower thread's closure, called by the query's task while that thread waits for it in
/// `waitBlocking`: never two at once, and the wait orders each call after the last.
private final class BlockedCaller: @unchecked Sendable {
    let body: (StoredContact) throws -> Void

    init(_ body: @escaping (StoredContact) throws -> Void) { self.body = body }
}

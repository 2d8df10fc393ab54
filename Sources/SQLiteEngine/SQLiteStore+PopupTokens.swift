import Foundation
public import StoreContract

/// Popup tokens in the SQLite store (the rules: `PopupTokenRules`).
extension SQLiteStore {
    /// The organization's current popup token.
    public func popupToken(organizationID: Int64) throws -> String {
        try withReader { database in
            try signedToken(organizationID: organizationID, epoch: try epoch(organizationID, in: database))
        }
    }

    /// Revokes every earlier token of the organization and returns the new one.
    public func rotatePopupToken(organizationID: Int64) throws -> String {
        try withDatabase { database in
            try database.transaction {
                try database.statement("UPDATE organizations SET popup_epoch = popup_epoch + 1 WHERE id = ?")
                    .binding([.integer(organizationID)]).run()
                try Self.bumpCredentialsVersion(in: database)
                return try signedToken(organizationID: organizationID, epoch: try epoch(organizationID, in: database))
            }
        }
    }

    /// The organization a popup token belongs to, or `nil` for a wrong, damaged or revoked one.
    /// The MAC is compared in constant time.
    public func organization(popupToken token: String) throws -> Organization? {
        guard let (id, epoch) = PopupTokenRules.popupTokenParts(token) else { return nil }
        let valid: Bool = try withReader { database in
            guard let current = try? self.epoch(id, in: database), current == epoch else { return false }
            return try PopupTokenRules.popupToken(token, isSignedWith: popupSecret)
        }
        return valid ? try organization(id: id) : nil
    }

    private func epoch(_ organizationID: Int64, in database: SQLiteDatabase) throws -> Int64 {
        let statement = try database.statement("SELECT popup_epoch FROM organizations WHERE id = ?")
        statement.bind(1, organizationID)
        guard try statement.step() else { throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.") }
        return statement.int64(0)
    }

    private func signedToken(organizationID: Int64, epoch: Int64) throws -> String {
        try PopupTokenRules.signedPopupToken(organizationID: organizationID, epoch: epoch, key: popupSecret)
    }

    /// The popup secret, created the first time a store is opened (on the writer connection) and
    /// then kept in memory, so signing or verifying a link reads no setting and writes nothing.
    static func popupSecret(in database: SQLiteDatabase) throws -> [UInt8] {
        try database.statement("INSERT OR IGNORE INTO settings (key, value) VALUES ('popup-secret', ?)")
            .binding([.text(PopupTokenRules.newPopupSecret())]).run()
        let statement = try database.statement("SELECT value FROM settings WHERE key = 'popup-secret'")
        guard try statement.step() else { throw ContactStoreError(.database, "The popup secret is missing.") }
        return PopupTokenRules.popupSecret(hex: statement.string(0))
    }
}

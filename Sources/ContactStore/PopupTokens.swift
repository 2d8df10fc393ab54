import Foundation

/// Signed popup links: a PBX puts `https://host/popup?token=T&number=…` in its softphones, and
/// the token alone lets the page in for one organization — no password in the URL, no contact data.
///
/// `T` is `v1.ORG.EPOCH.MAC`, MAC the URL-safe base64 of HMAC-SHA256 under a 256-bit secret this
/// server generated once (kept in the store's `settings`), over `caller-lookup popup v1|ORG|EPOCH`.
/// Rotating bumps the organization's epoch: every earlier link stops working.
extension ContactStore {
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
        guard let (id, epoch) = Self.popupTokenParts(token) else { return nil }
        let valid: Bool = try withReader { database in
            guard let current = try? self.epoch(id, in: database), current == epoch else { return false }
            return try Self.popupToken(token, isSignedWith: popupSecret)
        }
        return valid ? try organization(id: id) : nil
    }

    /// The standing link for a PBX's URL template: `BASE/popup?token=T&number={NUMBER}`, the PBX
    /// filling in the caller's number.
    package static func standingPopupLink(token: String, base: String) -> String {
        "\(base)/popup?token=\(token)&number={NUMBER}"
    }

    /// The organization and epoch a popup token names, if it has the token's form.
    package static func popupTokenParts(_ token: String) -> (organizationID: Int64, epoch: Int64)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let id = Int64(parts[1]), let epoch = Int64(parts[2]) else { return nil }
        return (id, epoch)
    }

    /// Whether the token's MAC is right under `key` (compared in constant time).
    package static func popupToken(_ token: String, isSignedWith key: [UInt8]) throws -> Bool {
        guard let (id, epoch) = popupTokenParts(token) else { return false }
        let expected = try signedPopupToken(organizationID: id, epoch: epoch, key: key)
        return Crypto.constantTimeEqual(Array(expected.utf8), Array(token.utf8))
    }

    private func epoch(_ organizationID: Int64, in database: SQLiteDatabase) throws -> Int64 {
        let statement = try database.statement("SELECT popup_epoch FROM organizations WHERE id = ?")
        statement.bind(1, organizationID)
        guard try statement.step() else { throw ContactStoreError(.notFound, "Organization \(organizationID) does not exist.") }
        return statement.int64(0)
    }

    private func signedToken(organizationID: Int64, epoch: Int64) throws -> String {
        try Self.signedPopupToken(organizationID: organizationID, epoch: epoch, key: popupSecret)
    }

    /// `v1.ORG.EPOCH.MAC` under `key`.
    package static func signedPopupToken(organizationID: Int64, epoch: Int64, key: [UInt8]) throws -> String {
        let mac = Crypto.hmacSHA256(key: key, Array("caller-lookup popup v1|\(organizationID)|\(epoch)".utf8))
        return "v1.\(organizationID).\(epoch).\(Crypto.base64url(mac))"
    }

    /// The popup secret, created the first time a store is opened (on the writer connection) and
    /// then kept in memory, so signing or verifying a link reads no setting and writes nothing.
    static func popupSecret(in database: SQLiteDatabase) throws -> [UInt8] {
        try database.statement("INSERT OR IGNORE INTO settings (key, value) VALUES ('popup-secret', ?)")
            .binding([.text(newPopupSecret())]).run()
        let statement = try database.statement("SELECT value FROM settings WHERE key = 'popup-secret'")
        guard try statement.step() else { throw ContactStoreError(.database, "The popup secret is missing.") }
        return popupSecret(hex: statement.string(0))
    }

    /// 256 random bits in hex, as the secret is kept in `settings`.
    package static func newPopupSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    package static func popupSecret(hex text: String) -> [UInt8] {
        let hex = Array(text.utf8)
        return stride(from: 0, to: hex.count - 1, by: 2).compactMap { UInt8(String(decoding: hex[$0...($0 + 1)], as: UTF8.self), radix: 16) }
    }
}

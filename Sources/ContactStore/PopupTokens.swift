import CLibCrypto
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
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let id = Int64(parts[1]), let epoch = Int64(parts[2]) else { return nil }
        let valid: Bool = try withReader { database in
            guard let current = try? self.epoch(id, in: database), current == epoch else { return false }
            let expected = try signedToken(organizationID: id, epoch: epoch)
            return PasswordHash.constantTimeEqual(Array(expected.utf8), Array(token.utf8))
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
        let key = popupSecret
        let message = Array("caller-lookup popup v1|\(organizationID)|\(epoch)".utf8)
        var mac = [UInt8](repeating: 0, count: 32)
        let ok = key.withUnsafeBytes { keyBytes in
            clc_hmac_sha256(keyBytes.baseAddress, Int32(keyBytes.count), message, message.count, &mac)
        }
        guard ok == 1 else { throw ContactStoreError(.database, "HMAC-SHA256 failed.") }
        let encoded = Data(mac).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "v1.\(organizationID).\(epoch).\(encoded)"
    }

    /// The popup secret, created the first time a store is opened (on the writer connection) and
    /// then kept in memory, so signing or verifying a link reads no setting and writes nothing.
    static func popupSecret(in database: SQLiteDatabase) throws -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let fresh = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try database.statement("INSERT OR IGNORE INTO settings (key, value) VALUES ('popup-secret', ?)")
            .binding([.text(fresh.map { String(format: "%02x", $0) }.joined())]).run()
        let statement = try database.statement("SELECT value FROM settings WHERE key = 'popup-secret'")
        guard try statement.step() else { throw ContactStoreError(.database, "The popup secret is missing.") }
        let hex = Array(statement.string(0).utf8)
        return stride(from: 0, to: hex.count - 1, by: 2).compactMap { UInt8(String(decoding: hex[$0...($0 + 1)], as: UTF8.self), radix: 16) }
    }
}

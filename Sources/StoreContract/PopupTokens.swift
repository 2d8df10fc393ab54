import Foundation

/// Signed popup links: a PBX puts `https://host/popup?token=T&number=…` in its softphones, and
/// the token alone lets the page in for one organization — no password in the URL, no contact data.
///
/// `T` is `v1.ORG.EPOCH.MAC`, MAC the URL-safe base64 of HMAC-SHA256 under a 256-bit secret this
/// server generated once (kept in the store's `settings`), over `caller-lookup popup v1|ORG|EPOCH`.
/// Rotating bumps the organization's epoch: every earlier link stops working.
package enum PopupTokenRules {
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

    /// `v1.ORG.EPOCH.MAC` under `key`.
    package static func signedPopupToken(organizationID: Int64, epoch: Int64, key: [UInt8]) throws -> String {
        let mac = Crypto.hmacSHA256(key: key, Array("caller-lookup popup v1|\(organizationID)|\(epoch)".utf8))
        return "v1.\(organizationID).\(epoch).\(Crypto.base64url(mac))"
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

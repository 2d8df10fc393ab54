import Contacts
import Foundation

/// What an access token lets its holder do. Each scope includes the ones before it: `lookup` reads
/// (every `GET` of the API, the popup and the phonebooks), `write` also changes single contacts (the
/// REST writes and batches), `admin` also replaces all contacts (upload), sets labels and manages
/// tokens. A user's login and password can do everything an `admin` token can.
public enum AccessScope: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case lookup
    case write
    case admin

    public static func < (lhs: AccessScope, rhs: AccessScope) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    public var description: String { rawValue }
}

/// An access token as listed: everything but the secret, which is shown once, at creation.
public struct AccessToken: Hashable, Sendable {
    /// Numbered per organization: 1, 2, 3 … never reused.
    public let id: Int64
    public let organizationID: Int64
    public let scope: AccessScope
    /// What the token is for (`FreeSWITCH in Brno`), as its creator wrote it.
    public let label: String
    /// The token's first characters (`clk_3f9a2c`), enough to tell tokens apart in a PBX config.
    public let prefix: String
    /// Seconds since 1970.
    public let created: Int64
    public let revoked: Int64?

    package init(id: Int64, organizationID: Int64, scope: AccessScope, label: String, prefix: String, created: Int64, revoked: Int64?) {
        (self.id, self.organizationID, self.scope, self.label, self.prefix, self.created, self.revoked) =
            (id, organizationID, scope, label, prefix, created, revoked)
    }
}

/// A token that lets a request in: its organization and scope.
public struct TokenGrant: Sendable {
    public let organization: Organization
    public let scope: AccessScope
    public let tokenID: Int64

    package init(organization: Organization, scope: AccessScope, tokenID: Int64) {
        (self.organization, self.scope, self.tokenID) = (organization, scope, tokenID)
    }
}

/// Scoped access tokens: what a PBX configuration holds instead of a user's password, so that a
/// URL in a dial plan can at most read caller names.
///
/// A token is `clk_` and 48 lowercase hex digits (192 random bits): URL-safe, so it can go in
/// `?token=`. The store keeps only its SHA-256 (a fast hash is enough for a random secret of that
/// length), the first ten characters to show, the scope, a label and the creation and revocation
/// times. Revoking moves the store's credentials version, which every process on the store watches
/// to forget the credentials it remembered.
package enum AccessTokenRules {
    /// The characters a token starts with.
    package static let tokenPrefix = "clk_"

    /// The HTTP Basic login under which a token may be sent as the password; no user can have it.
    package static let tokenLogin = "token"

    /// Whether `text` has the form of a token: the prefix and 48 lowercase hex digits.
    package static func isTokenShaped(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 52 && text.hasPrefix(tokenPrefix)
            && bytes.dropFirst(4).allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    /// A token's label, trimmed; refused when too long or with control characters.
    package static func checkedTokenLabel(_ label: String) throws -> String {
        let label = label.trimmingWhitespace()
        guard label.unicodeScalars.count <= 100 else {
            throw ContactStoreError(.invalidInput, "A token's label has at most 100 characters (this one has \(label.unicodeScalars.count)).")
        }
        guard !label.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) }) else {
            throw ContactStoreError(.invalidInput, "A token's label must not contain control characters (a tab, a line break).")
        }
        return label
    }

    /// A fresh token: the prefix and 192 random bits in hex.
    package static func newTokenSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return tokenPrefix + (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// SHA-256 of the token, 64 hex digits.
    package static func tokenHash(_ token: String) -> String {
        Crypto.sha256(Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

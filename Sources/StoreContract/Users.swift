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

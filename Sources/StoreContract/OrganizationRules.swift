import Contacts
import Foundation
import PhoneNumbers

/// The rules of an organization's settings, the same for every store engine.
package enum OrganizationRules {
    /// The trimmed name, the upper-cased region and the suffix length, or the rule they break.
    package static func checked(name: String, defaultRegion: String, suffixDigits: Int) throws -> (String, String, Int) {
        let name = name.trimmingWhitespace()
        let region = defaultRegion.uppercased()
        guard !name.isEmpty, name.unicodeScalars.count <= 255 else {
            throw ContactStoreError(.invalidInput, "An organization name must have 1 to 255 characters.")
        }
        guard region.count == 2, PhoneNumberValidator().countryCode(forRegion: region) != nil else {
            throw ContactStoreError(.unknownRegion, "'\(defaultRegion)' is not a region libphonenumber knows; use two letters such as CZ, SK, DE, US.")
        }
        guard (4...15).contains(suffixDigits) else {
            throw ContactStoreError(.invalidInput, "The suffix length must be between 4 and 15 digits.")
        }
        return (name, region, suffixDigits)
    }
}

/// The rules of a user's login and password, the same for every store engine.
package enum UserRules {
    /// A new user's first session epoch: random, 62 bits, so a login removed and created again
    /// never starts at an epoch its removed namesake's sessions (cookies, popup links) were signed
    /// with. Later epochs count up from it.
    package static func newSessionEpoch() -> Int64 {
        Int64.random(in: (1 << 32)..<(1 << 62))
    }

    /// The trimmed login, or the rule the login or password breaks.
    package static func checked(login: String, password: String) throws -> String {
        let login = login.trimmingWhitespace()
        guard !login.isEmpty, login.unicodeScalars.count <= 255, !login.contains(":") else {
            throw ContactStoreError(.invalidInput, "A login must have 1 to 255 characters and no ':' (HTTP Basic authentication splits on it).")
        }
        guard !password.isEmpty else {
            throw ContactStoreError(.invalidInput, "The password is empty.")
        }
        guard login != AccessTokenRules.tokenLogin else {
            throw ContactStoreError(.invalidInput, "The login '\(login)' is reserved: HTTP Basic with it carries an access token.")
        }
        // The server refuses credentials with control characters before any hash, so such a user
        // could never log in.
        guard !(login + password).unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) }) else {
            throw ContactStoreError(.invalidInput, "A login or password must not contain control characters (a NUL, a tab, a line break).")
        }
        try checked(password: password, login: login)
        return login
    }

    /// The fewest characters a new password may have. Passwords set before the rule keep working:
    /// only setting one is checked.
    package static let passwordLength = 10

    /// The rule a new password breaks: shorter than ``passwordLength`` characters (Unicode scalars,
    /// as JSON Schema's `minLength` counts them), or the login itself (in any letter case, with
    /// surrounding spaces).
    package static func checked(password: String, login: String) throws {
        let length = password.unicodeScalars.count
        guard length >= passwordLength else {
            throw ContactStoreError(.invalidInput, "A password must have at least \(passwordLength) characters; this one has \(length).")
        }
        guard password.trimmingWhitespace().lowercased() != login.lowercased() else {
            throw ContactStoreError(.invalidInput, "A password must not be the login ('\(login)').")
        }
    }

    /// Hashed for an unknown login, so its answer takes as long as a wrong password's.
    package static let decoyHash = PasswordHash.make("decoy") ?? "*"
}

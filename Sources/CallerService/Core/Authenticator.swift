import Dispatch
import Foundation
import StoreContract
import Synchronization

/// What a request presents: a user's login and password (HTTP Basic), or an access token
/// (`Authorization: Bearer`, or `?token=` where a PBX cannot send headers).
enum Credentials: Hashable, Sendable {
    case basic(login: String, password: String)
    case token(String)

    /// The `Authorization` value that presents these credentials.
    var authorization: String {
        switch self {
        case .basic(let login, let password): "Basic " + Data("\(login):\(password)".utf8).base64EncodedString()
        case .token(let token): "Bearer " + token
        }
    }

    /// What the throttle counts failures under, and the log names: the login, or `(token)` for
    /// every token (a token is never logged, not even in part).
    var name: String {
        switch self {
        case .basic(let login, _): login
        case .token: "(token)"
        }
    }
}

/// What the one who verifies credentials said about them.
enum CredentialCheck: Sendable {
    /// Valid for the organization, with what they may do and who they are (the credential popup
    /// links are bound to; `nil` where only the API knows, as on a mirror).
    case valid(Organization, AccessScope, LinkHolder?)
    case invalid
    /// The verifier could not be asked (a mirror's API is down).
    case unavailable
}

/// What the authenticator lets a request do.
enum AuthenticationOutcome: Sendable {
    case allowed(Organization, AccessScope, LinkHolder?)
    case denied
    /// Unknown credentials and nobody to verify them: 503, never data.
    case unavailable
    /// Too many recent failures for this login (or for tokens) from this address: 429, try again
    /// after the given seconds. The credentials were not even checked.
    case throttled(login: String, retryAfter: Int)
}

/// Authentication that stays fast: credentials are verified once — a password with the slow hash
/// and a token by its SHA-256 in the store on an API node, either by asking the API on a mirror —
/// then a keyed digest of the presented credentials is
/// remembered for `lifetime`, so a lookup does not pay tens of milliseconds of yescrypt or a round
/// trip. While the verifier is unavailable, credentials verified before keep working past their
/// lifetime; unknown ones are not let in.
///
/// Failed logins are throttled by `LoginThrottle` (per login and client address, and per address;
/// every token counts as one login, `(token)`), but only for credentials not verified before: a client that had it right keeps working whatever
/// others try, and a failed attempt forgets nothing that was verified. Unknown logins are throttled
/// the same way, so the answers do not tell which logins exist. Credentials with control
/// characters (a NUL, a line break) are refused before any hash is computed.
///
/// The digest uses Swift's `Hasher` (SipHash, seeded randomly per process) under two random salts:
/// 128 bits that mean nothing outside this process and are never written anywhere.
final class Authenticator: Sendable {
    private let verify: @Sendable (Credentials) async -> CredentialCheck
    private let lifetime: Double
    private let capacity: Int
    private let state: Mutex<State>

    private struct State {
        /// Keyed digest of the credentials (not of the header's text: `Bearer  T `, `bearer T` and
        /// `Basic base64(token:T)` are one entry) → who it was and when it was verified.
        var remembered: [Digest: Remembered] = [:]
        var throttle: LoginThrottle
    }
    private let salts = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))

    private struct Digest: Hashable {
        let first: Int
        let second: Int
    }

    private struct Remembered {
        var organization: Organization
        let scope: AccessScope
        let holder: LinkHolder?
        var verified: Double
        /// Set when credentials changed somewhere (a token revoked, a password changed): checked
        /// again before the next request, and not trusted meanwhile if the verifier is away.
        var doubted = false

        var allowed: AuthenticationOutcome { .allowed(organization, scope, holder) }
    }

    init(
        configuration: ServiceConfiguration,
        verify: @escaping @Sendable (Credentials) async -> CredentialCheck
    ) {
        self.verify = verify
        self.lifetime = Double(configuration.credentialLifetimeSeconds)
        self.capacity = configuration.credentialCacheSize
        self.state = Mutex(State(throttle: LoginThrottle(capacity: configuration.credentialCacheSize, base: configuration.loginThrottleSeconds)))
    }

    /// An API node's authenticator: passwords checked against the store's yescrypt hashes (on a
    /// dispatch thread), tokens against their SHA-256 (on a store reader), never on the
    /// cooperative pool. A user can do what a token of their role's scope can (`reader`: `lookup`,
    /// `editor`: `write`, `admin`: `admin`).
    convenience init(store: any RecordStore, configuration: ServiceConfiguration) {
        self.init(configuration: configuration) { credentials in
            do {
                switch credentials {
                case .basic(let login, let password):
                    let user = try await store.signIn(login: login, password: password)
                    return user.map {
                        .valid($0.organization, $0.account.role.scope, .user(login: $0.account.login, sessionEpoch: $0.account.sessionEpoch))
                    } ?? .invalid
                case .token(let token):
                    let grant = try await store.authenticate(token: token)
                    return grant.map { .valid($0.organization, $0.scope, .token(id: $0.tokenID)) } ?? .invalid
                }
            } catch {
                return .unavailable
            }
        }
    }

    /// Whether an `Authorization` value (`Basic …` or `Bearer …`) from `client` (the peer's
    /// address) lets a request in.
    ///
    /// The remembered case costs reading the credentials out of the header, two keyed hashes
    /// and a dictionary probe.
    func authenticate(authorization: String?, client: String) async -> AuthenticationOutcome {
        guard let credentials = Self.credentials(authorization) else { return .denied }
        let digest = digest(credentials)
        let now = Date().timeIntervalSinceReferenceDate
        let known = state.withLock { $0.remembered[digest] }
        if let known, now - known.verified < lifetime { return known.allowed }
        let login = credentials.name
        // Credentials verified before are re-verified whatever the counts: failures of others
        // (or of this login from elsewhere) never refuse a client that had it right.
        if known == nil, let wait = state.withLock({ $0.throttle.wait(login: login, client: client, now: now) }) {
            return .throttled(login: login, retryAfter: wait)
        }
        switch await verify(credentials) {
        case .valid(let organization, let scope, let holder):
            state.withLock { state in
                // Full: one entry goes (the dictionary's first, in an order a caller cannot
                // steer), never everyone's.
                if known == nil, state.remembered.count >= capacity, let victim = state.remembered.keys.first {
                    state.remembered[victim] = nil
                }
                state.remembered[digest] = Remembered(organization: organization, scope: scope, holder: holder, verified: now)
                // Only credentials new to this process clear the count: a client that re-verifies
                // what it had right (as a mirror does) must not reset a guesser's count at the same
                // address.
                if known == nil { state.throttle.succeed(login: login, client: client) }
            }
            return .allowed(organization, scope, holder)
        case .unavailable:
            // Verified before: still trusted while the verifier is away — unless credentials
            // changed since (it may be the one revoked).
            guard let known, !known.doubted else { return .unavailable }
            return known.allowed
        case .invalid:
            state.withLock { state in
                // Verified before and now wrong: the password changed or the token was revoked;
                // forget that copy only.
                state.remembered[digest] = nil
                state.throttle.fail(login: login, client: client, now: now)
            }
            return .denied
        }
    }

    /// How many credentials are remembered now.
    var rememberedCount: Int { state.withLock { $0.remembered.count } }

    /// Credentials changed (a token revoked, a user's password or role changed, a popup link
    /// rotated — here, or in another process on the same store): every remembered credential is
    /// verified again at its next request. None is forgotten: one still valid stays known, so the
    /// throttle never refuses it (three wrong tries by someone else cannot lock out a user who had
    /// it right); one revoked fails its check and is forgotten then.
    func doubtAll() {
        state.withLock { state in
            for digest in state.remembered.keys {
                state.remembered[digest]?.verified = -.infinity
                state.remembered[digest]?.doubted = true
            }
        }
    }

    /// Replaces the remembered copy of an organization (its labels changed), so requests see the
    /// change at once rather than after the credential lifetime.
    func update(_ organization: Organization) {
        state.withLock { state in
            for (digest, entry) in state.remembered where entry.organization.id == organization.id {
                state.remembered[digest]?.organization = organization
            }
        }
    }

    private func digest(_ credentials: Credentials) -> Digest {
        var first = Hasher()
        first.combine(salts.0)
        first.combine(credentials)
        var second = Hasher()
        second.combine(salts.1)
        second.combine(credentials)
        return Digest(first: first.finalize(), second: second.finalize())
    }

    /// `Basic base64(login:password)` or `Bearer TOKEN` → the credentials, `nil` for anything else.
    static func credentials(_ header: String?) -> Credentials? {
        if let token = bearer(header) {
            // A token is ASCII without spaces or control characters; anything else cannot be one
            // and is refused before any hashing (and never reaches a log).
            guard !token.isEmpty, token.utf8.count <= 200, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
            return .token(token)
        }
        guard let decoded = decodedBasic(header), let colon = decoded.firstIndex(of: ":") else { return nil }
        let login = String(decoded[..<colon])
        let password = String(decoded[decoded.index(after: colon)...])
        // A NUL would end the password for the C hash (everything after it unchecked), a line
        // break would forge log lines: no login or password has control characters.
        guard !login.isEmpty, !password.isEmpty,
            !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) })
        else { return nil }
        // Devices with only a user name and password field (desk phones' phonebook settings) send
        // a token as the password of the login `token`, which no user can have.
        if login == AccessTokenRules.tokenLogin { return .token(password) }
        return .basic(login: login, password: password)
    }

    /// The token of `Bearer TOKEN`.
    ///
    /// On every request: the scheme compared and the blanks trimmed on the UTF-8 bytes, without
    /// Foundation.
    static func bearer(_ header: String?) -> String? {
        guard let header else { return nil }
        let bytes = header.utf8
        guard bytes.count > 7 else { return nil }
        var index = bytes.startIndex
        for expected in "bearer ".utf8 {
            guard bytes[index] | 0x20 == expected else { return nil }
            index = bytes.index(after: index)
        }
        func blank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        var start = index
        var end = bytes.endIndex
        while start < end, blank(bytes[start]) { start = bytes.index(after: start) }
        while end > start, blank(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        return String(Substring(header.utf8[start..<end]))
    }

    /// The login a `Basic` header presents, as sent (control characters too), or `(token)`, for
    /// the log only.
    static func presentedLogin(_ header: String?) -> String? {
        if bearer(header) != nil { return "(token)" }
        return decodedBasic(header).map { String($0.prefix { $0 != ":" }) }
    }

    private static func decodedBasic(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces))
        else { return nil }
        return String(data: data, encoding: .utf8)
    }
}

import ContactStore
import Dispatch
import Foundation

/// What the one who verifies passwords said about a login and password.
enum CredentialCheck: Sendable {
    case valid(Organization)
    case invalid
    /// The verifier could not be asked (a mirror's API is down).
    case unavailable
}

/// What the authenticator lets a request do.
enum AuthenticationOutcome: Sendable {
    case allowed(Organization)
    case denied
    /// Unknown credentials and nobody to verify them: 503, never data.
    case unavailable
    /// Too many recent failures for this login: 429, try again after the given seconds. The
    /// password was not even checked.
    case throttled(login: String, retryAfter: Int)
}

/// HTTP Basic authentication that stays fast: a password is verified once — with the slow hash on
/// an API node, by asking the API on a mirror — then a keyed digest of the presented credentials is
/// remembered for `lifetime`, so a lookup does not pay tens of milliseconds of yescrypt or a round
/// trip. While the verifier is unavailable, credentials verified before keep working past their
/// lifetime; unknown ones are not let in.
///
/// Failed logins are throttled by `LoginThrottle` (per login and client address, and per address),
/// but only for credentials not verified before: a client that had it right keeps working whatever
/// others try, and a failed attempt forgets nothing that was verified. Unknown logins are throttled
/// the same way, so the answers do not tell which logins exist. Credentials with control
/// characters (a NUL, a line break) are refused before any hash is computed.
///
/// The digest uses Swift's `Hasher` (SipHash, seeded randomly per process) under two random salts:
/// 128 bits that mean nothing outside this process and are never written anywhere.
final class Authenticator: @unchecked Sendable {
    // @unchecked: the dictionaries are only touched under `lock`.
    private let verify: @Sendable (_ login: String, _ password: String) async -> CredentialCheck
    private let lifetime: Double
    private let capacity: Int
    private let lock = NSLock()
    /// Keyed digest of the whole `Authorization` value → who it was and when it was verified.
    private var remembered: [Digest: (login: String, organization: Organization, verified: Double)] = [:]
    private var throttle: LoginThrottle
    private let salts = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))

    private struct Digest: Hashable {
        let first: Int
        let second: Int
    }

    init(
        configuration: ServiceConfiguration,
        verify: @escaping @Sendable (_ login: String, _ password: String) async -> CredentialCheck
    ) {
        self.verify = verify
        self.lifetime = Double(configuration.credentialLifetimeSeconds)
        self.capacity = configuration.credentialCacheSize
        self.throttle = LoginThrottle(capacity: configuration.credentialCacheSize, base: configuration.loginThrottleSeconds)
    }

    /// An API node's authenticator: passwords checked against the store's yescrypt hashes, on a
    /// dispatch thread rather than the cooperative pool.
    convenience init(store: ContactStore, configuration: ServiceConfiguration) {
        self.init(configuration: configuration) { login, password in
            await offCooperativePool {
                let organization = try? store.authenticate(login: login, password: password)
                return organization.map { .valid($0) } ?? .invalid
            }
        }
    }

    /// Whether `Authorization: Basic …` credentials from `client` (the peer's address) let a
    /// request in.
    ///
    /// The remembered case costs one keyed hash of the header and a dictionary probe: no base64,
    /// no string splitting.
    func authenticate(authorization: String?, client: String) async -> AuthenticationOutcome {
        guard let authorization else { return .denied }
        let digest = digest(authorization)
        let now = Date().timeIntervalSinceReferenceDate
        let known = lock.withLock { remembered[digest] }
        if let known, now - known.verified < lifetime { return .allowed(known.organization) }
        guard let (login, password) = Self.credentials(authorization) else { return .denied }
        // Credentials verified before are re-verified whatever the counts: failures of others
        // (or of this login from elsewhere) never refuse a client that had it right.
        if known == nil, let wait = lock.withLock({ throttle.wait(login: login, client: client, now: now) }) {
            return .throttled(login: login, retryAfter: wait)
        }
        switch await verify(login, password) {
        case .valid(let organization):
            lock.withLock {
                if remembered.count >= capacity { remembered.removeAll(keepingCapacity: true) }
                remembered[digest] = (login, organization, now)
                // Only credentials new to this process clear the count: a client that re-verifies
                // what it had right (as a mirror does) must not reset a guesser's count at the same
                // address.
                if known == nil { throttle.succeed(login: login, client: client) }
            }
            return .allowed(organization)
        case .unavailable:
            // Verified before: still trusted while the verifier is away.
            return known.map { .allowed($0.organization) } ?? .unavailable
        case .invalid:
            lock.withLock {
                // Verified before and now wrong: the password changed; forget that copy only.
                remembered[digest] = nil
                throttle.fail(login: login, client: client, now: now)
            }
            return .denied
        }
    }

    /// Replaces the remembered copy of an organization (its labels changed), so requests see the
    /// change at once rather than after the credential lifetime.
    func update(_ organization: Organization) {
        lock.withLock {
            for (digest, entry) in remembered where entry.organization.id == organization.id {
                remembered[digest] = (entry.login, organization, entry.verified)
            }
        }
    }

    private func digest(_ authorization: String) -> Digest {
        var first = Hasher()
        first.combine(salts.0)
        first.combine(authorization)
        var second = Hasher()
        second.combine(salts.1)
        second.combine(authorization)
        return Digest(first: first.finalize(), second: second.finalize())
    }

    /// `Basic base64(login:password)` → (login, password).
    static func credentials(_ header: String?) -> (String, String)? {
        guard let decoded = decodedBasic(header), let colon = decoded.firstIndex(of: ":") else { return nil }
        let login = String(decoded[..<colon])
        let password = String(decoded[decoded.index(after: colon)...])
        // A NUL would end the password for the C hash (everything after it unchecked), a line
        // break would forge log lines: no login or password has control characters.
        guard !login.isEmpty, !password.isEmpty,
            !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) })
        else { return nil }
        return (login, password)
    }

    /// The login a `Basic` header presents, as sent (control characters too), for the log only.
    static func presentedLogin(_ header: String?) -> String? {
        decodedBasic(header).map { String($0.prefix { $0 != ":" }) }
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

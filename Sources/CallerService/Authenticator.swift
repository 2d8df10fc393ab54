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
/// Failed logins are throttled per login: from the third failure within five minutes, the next
/// attempt for that login is refused with 429 (its password unchecked) until `throttleSeconds ×
/// 2^(failures − 3)` have passed, at most 30 × `throttleSeconds`. Guessing one login's password is
/// limited to about one try per 30 s whatever the number of connections, while other logins and
/// credentials verified before are not affected. Unknown logins are throttled the same way, so
/// the answers do not tell which logins exist.
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
    private var failures: [String: (count: Int, last: Double)] = [:]
    private let throttleSeconds: Double
    /// Failures are forgotten after this long without another.
    static let failureWindow = 300.0
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
        self.throttleSeconds = configuration.loginThrottleSeconds
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

    /// Whether `Authorization: Basic …` credentials let a request in.
    ///
    /// The remembered case costs one keyed hash of the header and a dictionary probe: no base64,
    /// no string splitting.
    func authenticate(authorization: String?) async -> AuthenticationOutcome {
        guard let authorization else { return .denied }
        let digest = digest(authorization)
        let now = Date().timeIntervalSinceReferenceDate
        let known = lock.withLock { remembered[digest] }
        if let known, now - known.verified < lifetime { return .allowed(known.organization) }
        guard let (login, password) = Self.credentials(authorization) else { return .denied }
        if let wait = lock.withLock({ throttle(login, now: now) }) { return .throttled(login: login, retryAfter: wait) }
        switch await verify(login, password) {
        case .valid(let organization):
            lock.withLock {
                if remembered.count >= capacity { remembered.removeAll(keepingCapacity: true) }
                remembered[digest] = (login, organization, now)
                failures[login] = nil
            }
            return .allowed(organization)
        case .unavailable:
            // Verified before: still trusted while the verifier is away.
            return known.map { .allowed($0.organization) } ?? .unavailable
        case .invalid:
            lock.withLock { recordFailure(login, now: now) }
            return .denied
        }
    }

    /// Seconds until `login` may try again, or `nil` when it may now.
    private func throttle(_ login: String, now: Double) -> Int? {
        guard let failure = failures[login], failure.count >= 3, now - failure.last < Self.failureWindow else { return nil }
        let delay = throttleSeconds * min(30, Double(1 << min(failure.count - 3, 5)))
        let wait = failure.last + delay - now
        return wait > 0 ? Int(wait.rounded(.up)) : nil
    }

    private func recordFailure(_ login: String, now: Double) {
        let previous = failures[login].map { now - $0.last < Self.failureWindow ? $0.count : 0 }
        if previous == nil, failures.count >= capacity {
            // Full: forget expired failures only, so spraying many logins cannot wipe the
            // throttle of the one under attack.
            failures = failures.filter { now - $0.value.last < Self.failureWindow }
            if failures.count >= capacity { return }
        }
        failures[login] = ((previous ?? 0) + 1, now)
        remembered = remembered.filter { $0.value.login != login }
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
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let decoded = String(data: data, encoding: .utf8),
            let colon = decoded.firstIndex(of: ":")
        else { return nil }
        let login = String(decoded[..<colon])
        let password = String(decoded[decoded.index(after: colon)...])
        guard !login.isEmpty, !password.isEmpty else { return nil }
        return (login, password)
    }
}

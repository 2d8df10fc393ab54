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
}

/// HTTP Basic authentication that stays fast: a password is verified once — with the slow hash on
/// an API node, by asking the API on a mirror — then a keyed digest of the presented credentials is
/// remembered for `lifetime`, so a lookup does not pay tens of milliseconds of yescrypt or a round
/// trip. While the verifier is unavailable, credentials verified before keep working past their
/// lifetime; unknown ones are not let in. Repeated failures for one login are slowed down.
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
            break
        }
        let count = lock.withLock {
            let previous = failures[login].map { now - $0.last < 300 ? $0.count : 0 } ?? 0
            if failures.count >= capacity { failures.removeAll(keepingCapacity: true) }
            failures[login] = (previous + 1, now)
            remembered = remembered.filter { $0.value.login != login }
            return previous + 1
        }
        // The third failure in five minutes and later ones wait before they are answered.
        if count >= 3 { try? await Task.sleep(for: .milliseconds(min(3_000, 250 * (count - 2)))) }
        return .denied
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

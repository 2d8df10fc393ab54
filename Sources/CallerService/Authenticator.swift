import ContactStore
import Dispatch
import Foundation

/// HTTP Basic authentication that stays fast: a password is verified with the slow hash once, then
/// a keyed digest of the presented credentials is remembered for a short time, so a lookup does not
/// pay tens of milliseconds of yescrypt. Repeated failures for one login are slowed down.
///
/// The digest uses Swift's `Hasher` (SipHash, seeded randomly per process) under two random salts:
/// 128 bits that mean nothing outside this process and are never written anywhere.
final class Authenticator: @unchecked Sendable {
    // @unchecked: the dictionaries are only touched under `lock`.
    private let store: ContactStore
    private let lifetime: Double
    private let capacity: Int
    private let lock = NSLock()
    /// Keyed digest of the whole `Authorization` value → who it was and until when it is trusted.
    private var remembered: [Digest: (login: String, organization: Organization, expires: Double)] = [:]
    private var failures: [String: (count: Int, last: Double)] = [:]
    private let salts = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))

    private struct Digest: Hashable {
        let first: Int
        let second: Int
    }

    init(store: ContactStore, configuration: ServiceConfiguration) {
        self.store = store
        self.lifetime = Double(configuration.credentialLifetimeSeconds)
        self.capacity = configuration.credentialCacheSize
    }

    /// The organization of valid `Authorization: Basic …` credentials, or `nil`.
    ///
    /// The remembered case costs one keyed hash of the header and a dictionary probe: no base64,
    /// no string splitting.
    func organization(authorization: String?) async -> Organization? {
        guard let authorization else { return nil }
        let digest = digest(authorization)
        let now = Date().timeIntervalSinceReferenceDate
        if let entry = lock.withLock({ remembered[digest] }), entry.expires > now {
            return entry.organization
        }
        guard let (login, password) = Self.credentials(authorization) else { return nil }
        let store = self.store
        // The slow hash runs on a dispatch thread, not on the cooperative pool.
        let organization: Organization? = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: try? store.authenticate(login: login, password: password))
            }
        }
        if let organization {
            lock.withLock {
                if remembered.count >= capacity { remembered.removeAll(keepingCapacity: true) }
                remembered[digest] = (login, organization, now + lifetime)
                failures[login] = nil
            }
            return organization
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
        return nil
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

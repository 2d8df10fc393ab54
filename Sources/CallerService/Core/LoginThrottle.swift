/// Counts failed logins and says when an attempt must wait (429) — without letting anyone who
/// knows a login name lock its user out, and without ever switching itself off.
///
/// Failures are counted twice: per login *and client address* (one client guessing one login's
/// password), and per client address alone (one client spraying many logins). An attempt waits
/// when either count is over its threshold:
///
/// * a login from one address: from the 3rd failure within `window`, the next attempt waits
///   `base × 2^(failures − 3)`, at most `30 × base`;
/// * an address: from the 10th failure within `window` (any logins), the same with `failures − 10`.
///
/// The caller (the `Authenticator`) never asks for credentials it verified before: those are let
/// in or re-verified whatever the counts, so an attacker elsewhere — or a burst of wrong passwords
/// for the same login from the same address — never refuses a client that had it right.
///
/// The table holds at most `capacity` counts. When full, the least recently failed eighth is
/// forgotten: a spray of new logins pushes out only counts that stopped failing, never the one
/// under attack (it keeps failing) and never the sprayer's own address count.
struct LoginThrottle {
    enum Key: Hashable {
        case login(String, client: String)
        case client(String)
    }

    private var counts: [Key: (failures: Int, last: Double)] = [:]
    private let capacity: Int
    private let base: Double
    private let window: Double

    static let loginThreshold = 3
    static let clientThreshold = 10

    init(capacity: Int, base: Double, window: Double = 300) {
        self.capacity = max(16, capacity)
        self.base = base
        self.window = window
    }

    /// Seconds `login` from `client` must wait, or `nil` when it may try now.
    func wait(login: String, client: String, now: Double) -> Int? {
        let waits = [
            wait(.login(login, client: client), threshold: Self.loginThreshold, now: now),
            wait(.client(client), threshold: Self.clientThreshold, now: now),
        ].compactMap { $0 }
        return waits.max()
    }

    private func wait(_ key: Key, threshold: Int, now: Double) -> Int? {
        guard let count = counts[key], count.failures >= threshold, now - count.last < window else { return nil }
        let delay = base * min(30, Double(1 << min(count.failures - threshold, 5)))
        let wait = count.last + delay - now
        return wait > 0 ? Int(wait.rounded(.up)) : nil
    }

    /// Records a failed login of `login` from `client`.
    mutating func fail(login: String, client: String, now: Double) {
        for key in [Key.login(login, client: client), .client(client)] {
            let previous = counts[key].map { now - $0.last < window ? $0.failures : 0 } ?? 0
            if counts[key] == nil, counts.count >= capacity { evictOldest(now: now) }
            counts[key] = (previous + 1, now)
        }
    }

    /// A login from `client` succeeded: its own count is cleared (the address's is not).
    mutating func succeed(login: String, client: String) {
        counts[.login(login, client: client)] = nil
    }

    var count: Int { counts.count }

    private mutating func evictOldest(now: Double) {
        counts = counts.filter { now - $0.value.last < window }
        guard counts.count >= capacity else { return }
        let sorted = counts.sorted { $0.value.last < $1.value.last }
        for (key, _) in sorted.prefix(max(1, capacity / 8)) { counts[key] = nil }
    }
}

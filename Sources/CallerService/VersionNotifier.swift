import Foundation

/// Wakes long-polling change-feed requests when an organization's version moves: no busy loop, a
/// waiter sleeps until a writer publishes or its time is up.
///
/// On shutdown every waiter is answered at once and later waits return immediately, so a node
/// with mirrors long-polling it stops in moments instead of waiting out their polls.
final class VersionNotifier: @unchecked Sendable {
    // @unchecked: `versions`, `waiters` and `closed` are only touched under `lock`.
    private let lock = NSLock()
    private var versions: [Int64: Int64] = [:]
    private var waiters: [Int64: [UUID: CheckedContinuation<Void, Never>]] = [:]
    private var closed = false

    /// Wakes every waiter and makes later waits return at once (graceful shutdown).
    func shutDown() {
        let woken: [CheckedContinuation<Void, Never>] = lock.withLock {
            closed = true
            defer { waiters.removeAll() }
            return waiters.values.flatMap(\.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Records that `organizationID` is at `version` and, if that is later than it was, wakes its
    /// waiters (publishing an unchanged version wakes no one).
    func publish(organizationID: Int64, version: Int64) {
        let woken: [CheckedContinuation<Void, Never>] = lock.withLock {
            guard version > versions[organizationID] ?? 0 else { return [] }
            versions[organizationID] = version
            return Array((waiters.removeValue(forKey: organizationID) ?? [:]).values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns when the organization's version passes `version` or after `timeout`.
    func wait(organizationID: Int64, after version: Int64, timeout: Duration) async {
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let ready = self.lock.withLock {
                        if self.closed || (self.versions[organizationID] ?? 0) > version { return true }
                        self.waiters[organizationID, default: [:]][id] = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.cancel(organizationID: organizationID, id: id)
            }
            await group.next()
            group.cancelAll()
            self.cancel(organizationID: organizationID, id: id)
        }
    }

    private func cancel(organizationID: Int64, id: UUID) {
        let waiter = lock.withLock { waiters[organizationID]?.removeValue(forKey: id) }
        waiter?.resume()
    }
}

import Foundation
import Synchronization

/// Wakes long-polling change-feed requests when an organization's version moves: no busy loop, a
/// waiter sleeps until a writer publishes or its time is up.
///
/// On shutdown every waiter is answered at once and later waits return immediately, so a node
/// with mirrors long-polling it stops in moments instead of waiting out their polls.
final class VersionNotifier: Sendable {
    private struct State {
        var versions: [Int64: Int64] = [:]
        var waiters: [Int64: [UUID: CheckedContinuation<Void, Never>]] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// Wakes every waiter and makes later waits return at once (graceful shutdown).
    func shutDown() {
        // Closed first: a wait that starts meanwhile returns at once instead of parking.
        state.withLock { $0.closed = true }
        wakeAll()
    }

    /// Records that `organizationID` is at `version` and, if that is later than it was, wakes its
    /// waiters (publishing an unchanged version wakes no one).
    func publish(organizationID: Int64, version: Int64) {
        let woken: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard version > state.versions[organizationID] ?? 0 else { return [] }
            state.versions[organizationID] = version
            return Array((state.waiters.removeValue(forKey: organizationID) ?? [:]).values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Wakes every waiter of every organization, whatever its version: credentials changed (a
    /// token revoked, a password or an organization's settings changed), and the long polls of
    /// mirrors answer at once with the new credentials version.
    func wakeAll() {
        let woken: [CheckedContinuation<Void, Never>] = state.withLock { state in
            defer { state.waiters.removeAll() }
            return state.waiters.values.flatMap(\.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns when the organization's version passes `version` or after `timeout`.
    func wait(organizationID: Int64, after version: Int64, timeout: Duration) async {
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let ready = self.state.withLock { state in
                        if state.closed || (state.versions[organizationID] ?? 0) > version { return true }
                        state.waiters[organizationID, default: [:]][id] = continuation
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
        let waiter = state.withLock { $0.waiters[organizationID]?.removeValue(forKey: id) }
        waiter?.resume()
    }
}

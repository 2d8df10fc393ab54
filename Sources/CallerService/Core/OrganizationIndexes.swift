import Contacts
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import LookupIndex
import StoreContract
import Synchronization
import ThreadSupport

/// The lookup index of every organization this node serves, each kept at the store's committed
/// version by its `IndexFollower`.
///
/// Index work never runs in a request task: it runs on two threads of its own. On a serving node
/// `StoreFollowerService` builds every index before the node reports ready (`warmUp`) and then has
/// every index caught up whenever anything commits to the store — a write of this process, a CLI
/// import, another node (`catchUp`). A write's handler asks for a catch-up too and awaits the
/// version its commit made (`awaitVersion`), so the writer reads its write at once; concurrent
/// requests share one catch-up. Every catch-up reads only the store's change log and reports the
/// organizations' new versions to `caughtUp` (the change feed's waiters, the remembered
/// credentials). Lookups never build an index on a serving node; outside one (in-process tests of
/// the routes) an index is built on first use.
final class OrganizationIndexes: IndexProvider, Sendable {
    private struct Entry: Sendable {
        let follower: IndexFollower
        let lookup: CallerLookup
    }

    /// How far a warm start has come.
    struct Progress: Hashable, Sendable {
        var built: Int
        var total: Int
    }

    private let store: any RecordStore
    private let metrics: ServiceMetrics
    private let notifier: VersionNotifier
    private let threads = WorkerThreads(name: "index follower", count: 2, niceness: 10)
    private struct State {
        var entries: [Int64: Entry] = [:]
        /// Set while `warmUp` runs: lookups of an organization not built yet answer 503 meanwhile.
        var warming: Progress?
        /// Set once a follower service serves this node: lookups never build an index.
        var serving = false
        /// Whether a catch-up runs, and who waits for the next one.
        var catchingUp = false
        var catchUpAsked = false
        var catchUpWaiters: [CheckedContinuation<Void, any Error>] = []
    }

    private let state = Mutex(State())
    /// An organization as committed, its index's version after a catch-up, and whether that
    /// catch-up built or moved the index.
    struct CaughtUp: Sendable {
        let organization: Organization
        let version: Int64
        let moved: Bool
    }

    /// Called after each catch-up with every organization.
    private let caughtUp: @Sendable ([CaughtUp]) -> Void

    /// `caughtUp` learns the indexes' new versions after each catch-up; `notifier` wakes
    /// a write's handler waiting in `awaitVersion` (`caughtUp` publishes to it).
    init(
        store: any RecordStore, metrics: ServiceMetrics, notifier: VersionNotifier,
        caughtUp: @escaping @Sendable ([CaughtUp]) -> Void
    ) {
        self.store = store
        self.metrics = metrics
        self.notifier = notifier
        self.caughtUp = caughtUp
    }

    /// `nil` once warm (or when no warm start runs); otherwise how many indexes are built.
    var loading: Progress? { state.withLock { $0.warming } }

    /// The organization's index and lookup.
    func entry(for organization: Organization) throws -> IndexEntry {
        let (entry, progress, serving): (Entry?, Progress?, Bool) = state.withLock { ($0.entries[organization.id], $0.warming, $0.serving) }
        if let entry { return IndexEntry(index: entry.follower.index, lookup: entry.lookup) }
        if let progress {
            throw HTTPError(
                .serviceUnavailable, headers: [.retryAfter: "1"],
                message: "The node is loading its indexes (\(progress.built) of \(progress.total) built); try again in a second.")
        }
        if serving {
            // An organization created a moment ago: the next catch-up builds its index.
            requestCatchUp()
            throw HTTPError(
                .serviceUnavailable, headers: [.retryAfter: "1"],
                message: "The organization's index is being built; try again in a second.")
        }
        let built = try followed(organization)
        return IndexEntry(index: built.follower.index, lookup: built.lookup)
    }

    /// Marks the node as served by a follower service, warming up until `warmUp` has run, so that
    /// no request builds an index.
    func expectWarmUp() {
        state.withLock { state in
            state.serving = true
            if state.warming == nil, state.entries.isEmpty { state.warming = Progress(built: 0, total: 0) }
        }
    }

    /// Builds every organization's index (a full load from the store each), on both threads so
    /// both cores work while one organization's rows are read; lookups wait for it. An
    /// organization that cannot be built is reported and left to the next catch-up, so one bad
    /// organization does not keep the node from serving the others.
    func warmUp() async throws -> [(organization: Organization, error: any Error)] {
        let organizations = try await store.committedOrganizations()
        state.withLock { $0.warming = Progress(built: 0, total: organizations.count) }
        defer { state.withLock { $0.warming = nil } }
        return await withTaskGroup(of: [(organization: Organization, error: any Error)].self) { group in
            for worker in 0..<min(2, organizations.count) {
                group.addTask {
                    await self.threads.run {
                        var failures: [(organization: Organization, error: any Error)] = []
                        for index in stride(from: worker, to: organizations.count, by: 2) {
                            do {
                                _ = try self.followed(organizations[index])
                            } catch {
                                failures.append((organizations[index], error))
                            }
                            self.state.withLock { $0.warming?.built += 1 }
                        }
                        return failures
                    }
                }
            }
            let failures = await group.reduce(into: []) { $0 += $1 }
            // The full loads' rows are garbage now: hand their pages back (see `ProcessMemory`)
            // before the node reports ready, so no request waits behind the trim's arena locks.
            await threads.run { ProcessMemory.releaseFreed() }
            return failures
        }
    }

    /// Brings every organization's index to the store's committed version, building those of new
    /// organizations, and reports the versions to `caughtUp`. A catch-up asked for while one runs
    /// is served by the next one, which starts after it was asked for: it sees every commit made
    /// before the call.
    func catchUp() async throws {
        try await withCheckedThrowingContinuation { continuation in
            enqueueCatchUp(continuation)
        }
    }

    /// Asks for a catch-up without waiting for it.
    func requestCatchUp() { enqueueCatchUp(nil) }

    /// Asks for a catch-up and waits, at most `timeout`, until the organization's index has reached
    /// `version` (a write's handler, so the writer reads its write).
    func awaitVersion(_ version: Int64, of organizationID: Int64, timeout: Duration = .seconds(10)) async {
        // A write that changed nothing (an unchanged PUT) needs no catch-up.
        if let reached = state.withLock({ $0.entries[organizationID]?.follower.index.snapshot.version }), reached >= version { return }
        requestCatchUp()
        await notifier.wait(organizationID: organizationID, after: version - 1, timeout: timeout)
    }

    private func enqueueCatchUp(_ waiter: CheckedContinuation<Void, any Error>?) {
        let start: Bool = state.withLock { state in
            if let waiter { state.catchUpWaiters.append(waiter) }
            state.catchUpAsked = true
            defer { state.catchingUp = true }
            return !state.catchingUp
        }
        guard start else { return }
        threads.submit { [self] in
            // Who asked before a run starts is served by it; who asks during it, by the next.
            while let waiters = state.withLock({ state -> [CheckedContinuation<Void, any Error>]? in
                guard state.catchUpAsked else {
                    state.catchingUp = false
                    return nil
                }
                state.catchUpAsked = false
                defer { state.catchUpWaiters.removeAll() }
                return state.catchUpWaiters
            }) {
                let result = Result { try catchUpAll() }
                if case .success(let versions) = result { caughtUp(versions) }
                for waiter in waiters { waiter.resume(with: result.map { _ in }) }
            }
        }
    }

    /// Every organization, its index's version, and whether this run built or moved the index.
    private func catchUpAll() throws -> [CaughtUp] {
        try store.committedOrganizationsBlocking().map { organization in
            if let follower = state.withLock({ $0.entries[organization.id]?.follower }) {
                let version = follower.index.snapshot.version
                guard version != organization.version else { return CaughtUp(organization: organization, version: version, moved: false) }
                let reached = try follower.catchUp()
                metrics.index(organization: organization.name, snapshot: follower.index.snapshot)
                return CaughtUp(organization: organization, version: reached, moved: true)
            }
            return CaughtUp(organization: organization, version: try followed(organization).follower.index.snapshot.version, moved: true)
        }
    }

    private func followed(_ organization: Organization) throws -> Entry {
        if let entry = state.withLock({ $0.entries[organization.id] }) { return entry }
        let follower = try IndexFollower(
            source: store.changeSource(organizationID: organization.id),
            suffixDigits: organization.suffixDigits)
        guard let lookup = CallerLookup(region: organization.defaultRegion) else {
            throw ContactStoreError(.unknownRegion, "The organization's region \(organization.defaultRegion) is unknown.")
        }
        let entry = Entry(follower: follower, lookup: lookup)
        metrics.index(organization: organization.name, snapshot: follower.index.snapshot)
        return state.withLock { state in
            if let existing = state.entries[organization.id] { return existing }
            state.entries[organization.id] = entry
            return entry
        }
    }
}


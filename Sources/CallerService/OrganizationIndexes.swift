import ContactStore
import Contacts
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import LookupIndex

/// The lookup index of every organization this node serves, each kept at the store's committed
/// version by its `IndexFollower`.
///
/// On a serving node `StoreFollowerService` builds every index before the node reports ready
/// (`warmUp`) and then catches all of them up whenever anything commits to the store — a write of
/// this process, a CLI import, another node (`catchUpAll`). A write's handler also catches its own
/// organization up before it answers (`refresh`), so the writer reads its write at once. Both read
/// only the store's change log. Lookups never build an index while the node warms up; outside a
/// serving node (in-process tests of the routes) an index is built on first use.
final class OrganizationIndexes: IndexProvider, @unchecked Sendable {
    // @unchecked: `entries` and `warming` are only touched under `lock`.
    private struct Entry: Sendable {
        let follower: IndexFollower
        let lookup: CallerLookup
    }

    /// How far a warm start has come.
    struct Progress: Hashable, Sendable {
        var built: Int
        var total: Int
    }

    private let store: ContactStore
    private let metrics: ServiceMetrics
    private let lock = NSLock()
    private var entries: [Int64: Entry] = [:]
    /// Set while `warmUp` runs: lookups of an organization not built yet answer 503 meanwhile.
    private var warming: Progress?

    init(store: ContactStore, metrics: ServiceMetrics) {
        self.store = store
        self.metrics = metrics
    }

    /// `nil` once warm (or when no warm start runs); otherwise how many indexes are built.
    var loading: Progress? { lock.withLock { warming } }

    /// The organization's index and lookup.
    func entry(for organization: Organization) throws -> IndexEntry {
        if let entry = lock.withLock({ entries[organization.id] }) {
            return IndexEntry(index: entry.follower.index, lookup: entry.lookup)
        }
        if let progress = loading {
            throw HTTPError(
                .serviceUnavailable, headers: [.retryAfter: "1"],
                message: "The node is loading its indexes (\(progress.built) of \(progress.total) built); try again in a second.")
        }
        let entry = try followed(organization)
        return IndexEntry(index: entry.follower.index, lookup: entry.lookup)
    }

    /// Marks the node as warming up before `warmUp` has started, so that no request that comes
    /// first builds an index.
    func expectWarmUp() {
        lock.withLock { if warming == nil, entries.isEmpty { warming = Progress(built: 0, total: 0) } }
    }

    /// Builds every organization's index (a full load from the store each), two at a time so both
    /// cores work while one organization's rows are read; lookups wait for it. An organization
    /// that cannot be built is reported and left to be built on first use, so one bad organization
    /// does not keep the node from serving the others. Blocking: call it off the cooperative pool.
    func warmUp() throws -> [(organization: Organization, error: any Error)] {
        let organizations = try store.committedOrganizations()
        lock.withLock { warming = Progress(built: 0, total: organizations.count) }
        defer { lock.withLock { warming = nil } }
        let failures = FailureList()
        DispatchQueue.concurrentPerform(iterations: min(2, organizations.count)) { worker in
            for index in stride(from: worker, to: organizations.count, by: 2) {
                let organization = organizations[index]
                do {
                    _ = try followed(organization)
                } catch {
                    failures.append((organization, error))
                }
                lock.withLock { warming?.built += 1 }
            }
        }
        return failures.all
    }

    /// Brings every organization's index to the store's committed version, building those of new
    /// organizations; returns each organization as committed and its index version (for the change
    /// feed's waiters and the remembered credentials). Blocking: call it off the cooperative pool.
    func catchUpAll() throws -> [(organization: Organization, version: Int64)] {
        try store.committedOrganizations().map { organization in
            let version = try followed(organization).follower.index.snapshot.version
            return (organization, version == organization.version ? version : try refresh(organization))
        }
    }

    private func followed(_ organization: Organization) throws -> Entry {
        if let entry = lock.withLock({ entries[organization.id] }) { return entry }
        let follower = try IndexFollower(
            source: StoreChangeSource(store: store, organizationID: organization.id),
            suffixDigits: organization.suffixDigits)
        guard let lookup = CallerLookup(region: organization.defaultRegion) else {
            throw ContactStoreError(.unknownRegion, "The organization's region \(organization.defaultRegion) is unknown.")
        }
        let entry = Entry(follower: follower, lookup: lookup)
        metrics.index(organization: organization.name, snapshot: follower.index.snapshot)
        return lock.withLock {
            if let existing = entries[organization.id] { return existing }
            entries[organization.id] = entry
            return entry
        }
    }

    /// Brings the organization's index up to the store's version (after a write); returns that
    /// version.
    @discardableResult
    func refresh(_ organization: Organization) throws -> Int64 {
        let follower = try followed(organization).follower
        let version = try follower.catchUp()
        metrics.index(organization: organization.name, snapshot: follower.index.snapshot)
        return version
    }
}

/// The warm start's failures, collected from its two workers.
private final class FailureList: @unchecked Sendable {
    // @unchecked: `items` is only touched under `lock`.
    private let lock = NSLock()
    private var items: [(organization: Organization, error: any Error)] = []

    func append(_ item: (organization: Organization, error: any Error)) { lock.withLock { items.append(item) } }
    var all: [(organization: Organization, error: any Error)] { lock.withLock { items } }
}

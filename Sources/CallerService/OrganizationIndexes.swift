import ContactStore
import Contacts
import Foundation
import LookupIndex

/// The lookup index of every organization this node serves, built on first use from the store and
/// kept current by its `IndexFollower` — refreshed after each write before the write is answered,
/// so a client that wrote can look its write up at once.
final class OrganizationIndexes: IndexProvider, @unchecked Sendable {
    // @unchecked: `entries` is only touched under `lock`.
    private struct Entry: Sendable {
        let follower: IndexFollower
        let lookup: CallerLookup
    }

    private let store: ContactStore
    private let metrics: ServiceMetrics
    private let lock = NSLock()
    private var entries: [Int64: Entry] = [:]

    init(store: ContactStore, metrics: ServiceMetrics) {
        self.store = store
        self.metrics = metrics
    }

    /// The organization's index and lookup, building the index on first use.
    func entry(for organization: Organization) throws -> IndexEntry {
        let entry = try followed(organization)
        return IndexEntry(index: entry.follower.index, lookup: entry.lookup)
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

    /// Brings the organization's index up to the store's version (after a write).
    func refresh(_ organization: Organization) throws {
        let follower = try followed(organization).follower
        try follower.catchUp()
        metrics.index(organization: organization.name, snapshot: follower.index.snapshot)
    }
}

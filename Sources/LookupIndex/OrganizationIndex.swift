import Atomics

/// The current snapshot of one organization, swapped atomically: readers load it without a lock.
public final class OrganizationIndex: Sendable {
    private let current: ManagedAtomic<IndexSnapshot>

    public init(_ snapshot: IndexSnapshot) {
        current = ManagedAtomic(snapshot)
    }

    /// The snapshot to answer a lookup from; hold it for the whole lookup.
    public var snapshot: IndexSnapshot { current.load(ordering: .acquiring) }

    /// Makes `snapshot` the current one.
    public func publish(_ snapshot: IndexSnapshot) {
        current.store(snapshot, ordering: .releasing)
    }
}

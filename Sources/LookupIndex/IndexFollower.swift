public import Contacts
import Foundation

/// Keeps one organization's `OrganizationIndex` current from a `ChangeSource`: a full build at
/// start (and on resync), then deltas. The only way the index learns anything.
///
/// One catch-up runs at a time (a lock serializes writers); readers never wait for it. When the
/// overlay of deltas grows past `compactionThreshold`, the follower merges it into a new base.
public final class IndexFollower: Sendable {
    public let index: OrganizationIndex
    public let suffixDigits: Int
    private let source: any ChangeSource
    private let writer = NSLock()

    /// Builds the index from a full load of `source`.
    public init(source: any ChangeSource, suffixDigits: Int = 9) throws {
        self.source = source
        self.suffixDigits = suffixDigits
        index = OrganizationIndex(Self.build(try source.loadAll(), suffixDigits: suffixDigits))
    }

    /// Starts from a snapshot already at hand (a mirror's snapshot file) without loading anything;
    /// `catchUp()` then brings it forward from `snapshot.version`.
    public init(source: any ChangeSource, startingFrom snapshot: IndexSnapshot) {
        self.source = source
        self.suffixDigits = snapshot.suffixDigits
        index = OrganizationIndex(snapshot)
    }

    private static func build(_ load: FullLoad, suffixDigits: Int) -> IndexSnapshot {
        IndexSnapshot.build(load.contacts, version: load.version, suffixDigits: suffixDigits).withLabels(load.labels)
    }

    /// Overlay size past which deltas are merged into a new base: an eighth of the contacts, at
    /// least 1,024, so the amortized cost of a change stays a small constant.
    public func compactionThreshold(for snapshot: IndexSnapshot) -> Int { max(1_024, snapshot.count / 8) }

    /// How many changes one read of the source asks for (a batch holds whole transactions, so an
    /// import arrives as one batch however large).
    static let batchLimit = 10_000

    /// Applies every change the source has after the current snapshot; returns the new version.
    /// A batch that leaves the overlay past `compactionThreshold` is merged into a new base before
    /// it is published, so readers never see a large overlay.
    @discardableResult
    public func catchUp() throws -> Int64 {
        writer.lock()
        defer { writer.unlock() }
        var snapshot = index.snapshot
        while true {
            let batch = try source.changes(after: snapshot.version, limit: Self.batchLimit)
            if batch.resync {
                snapshot = Self.build(try source.loadAll(), suffixDigits: suffixDigits)
                index.publish(snapshot)
                return snapshot.version
            }
            guard batch.version > snapshot.version else { return snapshot.version }
            snapshot = snapshot.applying(batch.changes, version: batch.version)
            if let labels = batch.labels { snapshot = snapshot.withLabels(labels) }
            if snapshot.overlaySize > compactionThreshold(for: snapshot) { snapshot = snapshot.compacted() }
            index.publish(snapshot)
        }
    }
}

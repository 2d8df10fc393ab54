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
        index = OrganizationIndex(try Self.build(source, suffixDigits: suffixDigits))
    }

    /// Starts from a snapshot already at hand (a mirror's snapshot file) without loading anything;
    /// `catchUp()` then brings it forward from `snapshot.version`.
    public init(source: any ChangeSource, startingFrom snapshot: IndexSnapshot) {
        self.source = source
        self.suffixDigits = snapshot.suffixDigits
        index = OrganizationIndex(snapshot)
    }

    /// The index of a full load, each contact encoded into the builder as the source reads it:
    /// the load never holds every contact at once (a million contacts of twenty strings each).
    private static func build(_ source: any ChangeSource, suffixDigits: Int) throws -> IndexSnapshot {
        var builder = IndexBuilder(suffixDigits: suffixDigits)
        let head = try source.loadAll { builder.add($0) }
        return builder.build(version: head.version).withLabels(head.labels)
    }

    /// Publishes `replacement` — the same contacts at the same version, held elsewhere (its index
    /// file, mapped) — when `current` is still the published snapshot; `false` when a change was
    /// published first (the replacement would lose it).
    public func republish(_ replacement: IndexSnapshot, replacing current: IndexSnapshot) -> Bool {
        writer.lock()
        defer { writer.unlock() }
        guard index.snapshot === current, replacement.version == current.version, replacement.count == current.count else { return false }
        index.publish(replacement)
        return true
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
        try catchUpReportingRebuilds().version
    }

    /// `catchUp`, also saying whether the index was built anew (a full load, a compaction): the
    /// old one and the rows it was built from are garbage then, worth handing back to the system.
    public func catchUpReportingRebuilds() throws -> (version: Int64, rebuilt: Bool) {
        writer.lock()
        defer { writer.unlock() }
        var snapshot = index.snapshot
        var rebuilt = false
        while true {
            // More changes than a compaction would take (a replace-all import): a full load builds
            // the index for less than replaying them into the overlay and merging it.
            if try source.hasChanges(moreThan: compactionThreshold(for: snapshot), after: snapshot.version) == true {
                snapshot = try Self.build(source, suffixDigits: suffixDigits)
                index.publish(snapshot)
                return (snapshot.version, true)
            }
            let batch = try source.changes(after: snapshot.version, limit: Self.batchLimit)
            if batch.resync {
                snapshot = try Self.build(source, suffixDigits: suffixDigits)
                index.publish(snapshot)
                return (snapshot.version, true)
            }
            guard batch.version > snapshot.version else { return (snapshot.version, rebuilt) }
            snapshot = snapshot.applying(batch.changes, version: batch.version)
            if let labels = batch.labels { snapshot = snapshot.withLabels(labels) }
            if snapshot.overlaySize > compactionThreshold(for: snapshot) {
                snapshot = snapshot.compacted()
                rebuilt = true
            }
            index.publish(snapshot)
        }
    }
}

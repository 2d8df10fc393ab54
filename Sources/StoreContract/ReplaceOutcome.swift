import Contacts

/// What a replace-all import changed.
public struct ReplaceOutcome: Hashable, Sendable {
    public var created = 0
    public var updated = 0
    public var deleted = 0
    public var unchanged = 0
    public var version: Int64 = 0

    public init() {}
}

/// A dry run's outcome, thrown to roll its transaction back.
package struct DryRunOutcome: Error {
    package let outcome: ReplaceOutcome
    package init(outcome: ReplaceOutcome) { self.outcome = outcome }
}

/// The change log's retention, the same for every engine.
public enum ChangeLogRules {
    /// Compaction keeps at least this many delete entries, however small the organization.
    public static let minimumRetainedDeletes = 10_000
}

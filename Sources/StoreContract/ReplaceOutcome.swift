public import Contacts

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

/// What an import reads: a CSV file of the import contract, or another system's export laid out
/// as records and read through a mapping (a CRM sync).
public struct ImportSource: Sendable {
    package let makeReader: @Sendable () -> any ImportRecordReader
    package let mapping: ImportMapping

    /// Records from `makeReader` (called once, on the import's reading thread), the header
    /// first, read through `mapping`.
    public init(mapping: ImportMapping, makeReader: @escaping @Sendable () -> any ImportRecordReader) {
        (self.mapping, self.makeReader) = (mapping, makeReader)
    }

    /// A CSV file of the import contract.
    public static func csv(_ bytes: [UInt8]) -> ImportSource {
        ImportSource(mapping: ImportMapping()) { CSVReader(bytes) }
    }
}

/// How an import (replace-all) may change the organization.
public struct ImportOptions: Hashable, Sendable {
    /// Report what the import would do and change nothing.
    public var dryRun: Bool
    /// Refuse the import when it would delete more than this share (0–100) of the
    /// organization's contacts: a guard against a half-empty export wiping them.
    public var maxDeletePercent: Int?

    public init(dryRun: Bool = false, maxDeletePercent: Int? = nil) {
        (self.dryRun, self.maxDeletePercent) = (dryRun, maxDeletePercent)
    }

    /// Throws `DeleteLimitExceeded` when `outcome` deletes more than allowed; each engine calls
    /// it before it commits, so a refused import changes nothing.
    package func check(_ outcome: ReplaceOutcome) throws {
        guard let maxDeletePercent, outcome.deleted > 0 else { return }
        let existing = outcome.deleted + outcome.updated + outcome.unchanged
        if outcome.deleted * 100 > existing * maxDeletePercent {
            throw DeleteLimitExceeded(outcome: outcome, existing: existing, limitPercent: maxDeletePercent)
        }
    }
}

/// An import refused because it would delete more contacts than its options allow.
package struct DeleteLimitExceeded: Error {
    package let outcome: ReplaceOutcome
    package let existing: Int
    package let limitPercent: Int

    package var message: String {
        let percent = Double(outcome.deleted) * 100 / Double(max(existing, 1))
        return "Refused: this import would delete \(outcome.deleted) of the organization's \(existing) contacts "
            + "(\(Int(percent.rounded()))%), more than the \(limitPercent)% allowed; nothing was changed. "
            + "If the export really lost that many contacts, raise the limit or import the file by hand."
    }
}

/// The change log's retention, the same for every engine.
public enum ChangeLogRules {
    /// Compaction keeps at least this many delete entries, however small the organization.
    public static let minimumRetainedDeletes = 10_000
}

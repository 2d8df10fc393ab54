import Contacts

/// An organization: the unit that owns contacts and users.
public struct Organization: Hashable, Sendable {
    public let id: Int64
    public let name: String
    /// Two letters (`CZ`): how incoming numbers without `+` are read.
    public let defaultRegion: String
    /// How many trailing national digits the suffix fallback compares (default 9).
    public let suffixDigits: Int
    /// The version of the organization's change log: bumped by every write that changes something.
    public let version: Int64
    /// The organization's own names for fields (`customField1` → `Důležitost`), shown by the popup
    /// and returned by lookups; fields without one keep their column name.
    public let labels: [ContactField: String]

    public init(
        id: Int64, name: String, defaultRegion: String, suffixDigits: Int, version: Int64,
        labels: [ContactField: String] = [:]
    ) {
        self.id = id
        self.name = name
        self.defaultRegion = defaultRegion
        self.suffixDigits = suffixDigits
        self.version = version
        self.labels = labels
    }
}

/// What a replace-all import changed.
public struct ReplaceOutcome: Hashable, Sendable {
    public var created = 0
    public var updated = 0
    public var deleted = 0
    public var unchanged = 0
    public var version: Int64 = 0

    public init() {}
}

/// A store operation that could not be done, with a message that says what to do.
public struct ContactStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        case notFound
        case duplicateExternalId
        case organizationExists
        case unknownOrganization
        case loginTaken
        case unknownRegion
        case invalidInput
        /// The store cannot be reached just now (its server is down, its file is locked): nothing
        /// was changed, and trying again later may succeed.
        case unavailable
        case database
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// One write of a batch.
public enum BatchOperation: Sendable {
    /// Create, or replace the contact with the same `externalId`.
    case upsert(Contact)
    case delete(id: Int64)
    case deleteExternal(String)
}

/// What one operation of a batch did.
public enum BatchResult: Hashable, Sendable {
    case created(StoredContact)
    case updated(StoredContact)
    case unchanged(StoredContact)
    case deleted(Int64)
}

/// The operation that made a batch fail; nothing of the batch was written.
public struct BatchFailure: Error, Sendable {
    public let index: Int
    public let error: ContactStoreError

    package init(index: Int, error: ContactStoreError) {
        self.index = index
        self.error = error
    }
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

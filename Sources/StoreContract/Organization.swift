public import Contacts

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

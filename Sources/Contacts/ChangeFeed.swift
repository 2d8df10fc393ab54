/// One entry of the change feed.
public enum ContactChange: Hashable, Sendable {
    case upsert(StoredContact)
    case delete(id: Int64, version: Int64)

    public var version: Int64 {
        switch self {
        case .upsert(let stored): stored.version
        case .delete(_, let version): version
        }
    }
}

/// Changes after a version, whole transactions only.
public struct ChangeBatch: Hashable, Sendable {
    public let changes: [ContactChange]
    /// The version a reader is at after applying `changes`.
    public let version: Int64
    /// `true` when the requested version cannot be served from the log: reload everything.
    public let resync: Bool
    /// The organization's field labels as of `version`, when they changed in this batch (labels
    /// are versioned changes like contacts, so every follower applies them in order).
    public let labels: [ContactField: String]?

    public init(changes: [ContactChange], version: Int64, resync: Bool, labels: [ContactField: String]? = nil) {
        self.changes = changes
        self.version = version
        self.resync = resync
        self.labels = labels
    }
}

/// Everything a follower starts from: the contacts, the organization's field labels, and the
/// version both reflect.
public struct FullLoad: Sendable {
    public let contacts: [StoredContact]
    public let version: Int64
    public let labels: [ContactField: String]

    public init(contacts: [StoredContact], version: Int64, labels: [ContactField: String] = [:]) {
        self.contacts = contacts
        self.version = version
        self.labels = labels
    }
}

/// Where an organization's changes come from: the local store on an API node, the HTTP change
/// feed on a mirror. The follower is the same for both.
public protocol ChangeSource: Sendable {
    /// Every contact, the labels, and the version they reflect.
    func loadAll() throws -> FullLoad
    /// Changes after `version` (whole transactions), or `resync` when the log cannot serve it.
    func changes(after version: Int64, limit: Int) throws -> ChangeBatch
}

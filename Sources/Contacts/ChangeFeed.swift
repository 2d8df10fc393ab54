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
    /// Every contact in ascending id order, each handed to `body` as it is read (nothing holds them
    /// all at once), then the version and labels they reflect: what an index is built from.
    func loadAll(each body: (StoredContact) throws -> Void) throws -> FullLoadHead
    /// Changes after `version` (whole transactions), or `resync` when the log cannot serve it.
    func changes(after version: Int64, limit: Int) throws -> ChangeBatch
    /// Whether more than `count` changes follow `version` — then a follower builds the index from
    /// a full load instead of replaying them (a replace-all import of a million rows) — or `nil`
    /// when the source cannot tell cheaply.
    func hasChanges(moreThan count: Int, after version: Int64) throws -> Bool?
}

/// What a streamed full load reflects: the version and the labels.
public struct FullLoadHead: Sendable {
    public let version: Int64
    public let labels: [ContactField: String]

    public init(version: Int64, labels: [ContactField: String] = [:]) {
        self.version = version
        self.labels = labels
    }
}

extension ChangeSource {
    /// A source that cannot stream hands over its whole load, in id order.
    public func loadAll(each body: (StoredContact) throws -> Void) throws -> FullLoadHead {
        let load = try loadAll()
        let ascending = zip(load.contacts, load.contacts.dropFirst()).allSatisfy { $0.id < $1.id }
        for stored in ascending ? load.contacts : load.contacts.sorted(by: { $0.id < $1.id }) { try body(stored) }
        return FullLoadHead(version: load.version, labels: load.labels)
    }

    public func hasChanges(moreThan count: Int, after version: Int64) throws -> Bool? { nil }
}

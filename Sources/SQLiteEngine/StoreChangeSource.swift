public import Contacts
import StoreContract

/// One organization of the local store as a `ChangeSource`: what an API node's index follows (a
/// mirror follows the HTTP change feed instead).
public struct StoreChangeSource: ChangeSource {
    public let store: SQLiteStore
    public let organizationID: Int64

    public init(store: SQLiteStore, organizationID: Int64) {
        self.store = store
        self.organizationID = organizationID
    }

    public func loadAll() throws -> FullLoad {
        try store.fullLoad(organizationID: organizationID)
    }

    public func loadAll(each body: (StoredContact) throws -> Void) throws -> FullLoadHead {
        try store.fullLoad(organizationID: organizationID, each: body)
    }

    public func hasChanges(moreThan count: Int, after version: Int64) throws -> Bool? {
        try store.hasChanges(organizationID: organizationID, moreThan: count, after: version)
    }

    public func changes(after version: Int64, limit: Int) throws -> ChangeBatch {
        try store.changes(organizationID: organizationID, after: version, limit: limit)
    }
}

import ContactStore
import Contacts
import LookupIndex

/// The local store as the index's change source (an API node's follower reads it; a mirror reads
/// the HTTP change feed instead).
struct StoreChangeSource: ChangeSource {
    let store: ContactStore
    let organizationID: Int64

    func loadAll() throws -> (contacts: [StoredContact], version: Int64) {
        try store.allContacts(organizationID: organizationID)
    }

    func changes(after version: Int64, limit: Int) throws -> ChangeBatch {
        try store.changes(organizationID: organizationID, after: version, limit: limit)
    }
}

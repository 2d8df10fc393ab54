public import Contacts

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

/// A contact as stored: its id, the change-log version that last changed it, and its values.
public struct StoredContact: Hashable, Sendable {
    public let id: Int64
    public let version: Int64
    public let contact: Contact

    public init(id: Int64, version: Int64, contact: Contact) {
        self.id = id
        self.version = version
        self.contact = contact
    }
}

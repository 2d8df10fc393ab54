public import Contacts

/// An organization's contacts as the upload's CSV (`ContactCSV`), read a page at a time in id
/// order: the export of the command line and of `GET /v3/contacts/export`, in bounded memory
/// whatever the organization's size.
public enum ContactExport {
    /// Contacts per page read from the store.
    public static let pageSize = 2_000

    /// Hands `write` the header, then about a page of lines at a time; returns how many contacts.
    @discardableResult
    public static func write(
        from store: any RecordStore, organizationID: Int64, _ write: (String) async throws -> Void
    ) async throws -> Int {
        try await write(ContactCSV.header)
        var after: Int64 = 0
        var count = 0
        while true {
            let page = try await store.contactsPage(organizationID: organizationID, afterID: after, limit: pageSize)
            guard let last = page.last else { return count }
            var text = ""
            for stored in page { text += ContactCSV.line(stored.contact) }
            try await write(text)
            count += page.count
            after = last.id
        }
    }
}

/// Reads the API's snapshot and change-feed answers (`GET /v3/contacts/snapshot`,
/// `GET /v3/contacts/changes`) as a mirror receives them, straight into contacts.
///
/// The API validated every contact it writes, so contacts are taken as well-formed values
/// (`Contact(trustedValues:)`); anything else that is not what the API writes is a `Failure`
/// that says where, never a crash.
package enum ChangeFeedJSON {
    /// `{"version":V,"count":N,"labels":{…},"contacts":[{…},…]}`.
    package static func snapshot(_ bytes: [UInt8]) throws(JSONScanner.Failure) -> FullLoad {
        var scanner = JSONScanner(bytes)
        var version: Int64?
        var labels: [ContactField: String] = [:]
        var contacts: [StoredContact] = []
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "version": version = try scanner.int64()
            case "count": contacts.reserveCapacity(Int(clamping: min(max(0, try scanner.int64()), Int64(bytes.count / 16))))
            case "labels": labels = try self.labels(&scanner)
            case "contacts": try scanner.array { scanner throws(JSONScanner.Failure) in contacts.append(try storedContact(&scanner)) }
            default: try scanner.skipValue()
            }
        }
        try trailing(&scanner)
        guard let version else { throw JSONScanner.Failure(description: "a snapshot without its version") }
        return FullLoad(contacts: contacts, version: version, labels: labels)
    }

    /// `{"version":V,"resync":false,"changes":[{"op":"upsert","contact":{…}},{"op":"delete",…}]}`,
    /// with `"labels":{…}` when the organization's labels changed in the batch.
    package static func changes(_ bytes: [UInt8]) throws(JSONScanner.Failure) -> ChangeBatch {
        var credentialsVersion: Int64?
        return try changes(bytes, credentialsVersion: &credentialsVersion)
    }

    /// A change feed answer and its `credentialsVersion` (`nil` from an API before 0.10).
    package static func changes(_ bytes: [UInt8], credentialsVersion: inout Int64?) throws(JSONScanner.Failure) -> ChangeBatch {
        var scanner = JSONScanner(bytes)
        var version: Int64?
        var resync = false
        var labels: [ContactField: String]?
        var changes: [ContactChange] = []
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "version": version = try scanner.int64()
            case "resync": resync = try scanner.bool()
            case "credentialsVersion": credentialsVersion = try scanner.int64()
            case "labels": labels = try self.labels(&scanner)
            case "changes": try scanner.array { scanner throws(JSONScanner.Failure) in changes.append(try change(&scanner)) }
            default: try scanner.skipValue()
            }
        }
        try trailing(&scanner)
        guard let version else { throw JSONScanner.Failure(description: "a change feed answer without its version") }
        return ChangeBatch(changes: changes, version: version, resync: resync, labels: labels)
    }

    /// `{"customField1":"Důležitost",…}` as `JSONWriter.writeLabels` writes it. Unknown keys,
    /// values that are not text and empty labels are skipped: labels are decoration, never a
    /// reason to refuse an answer.
    package static func labels(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> [ContactField: String] {
        var labels: [ContactField: String] = [:]
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            guard let field = ContactField(rawValue: key) else { return try scanner.skipValue() }
            if let label = try scanner.stringOrSkip(), !label.isEmpty { labels[field] = label }
        }
        return labels
    }

    /// Labels as a whole text (the store's column); `[:]` when it is not a JSON object.
    package static func labels(_ text: String) -> [ContactField: String] {
        var scanner = JSONScanner(Array(text.utf8))
        return (try? labels(&scanner)) ?? [:]
    }

    package static func trailing(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) {
        guard scanner.atEnd() else { throw JSONScanner.Failure(description: "text after the JSON value") }
    }

    /// One change: `{"op":"upsert","contact":{…}}` or `{"op":"delete","id":…,"version":…}`.
    static func change(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> ContactChange {
        var op: String?
        var contact: StoredContact?
        var id: Int64?
        var version: Int64?
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "op": op = try scanner.string()
            case "contact": contact = try storedContact(&scanner)
            case "id": id = try scanner.int64()
            case "version": version = try scanner.int64()
            default: try scanner.skipValue()
            }
        }
        switch op {
        case "upsert"?:
            guard let contact else { throw JSONScanner.Failure(description: "an upsert without its contact") }
            return .upsert(contact)
        case "delete"?:
            guard let id, let version else { throw JSONScanner.Failure(description: "a delete without id or version") }
            return .delete(id: id, version: version)
        default:
            throw JSONScanner.Failure(description: "a change with op \(op ?? "missing")")
        }
    }

    /// A contact as the API writes it (`Contact.writeJSON`).
    static func storedContact(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> StoredContact {
        var id: Int64?
        var version: Int64?
        var values = [String](repeating: "", count: ContactField.allCases.count)
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "id": id = try scanner.int64()
            case "version": version = try scanner.int64()
            default:
                if let field = ContactField(rawValue: key), !scanner.null() {
                    values[field.index] = try scanner.string()
                } else if ContactField(rawValue: key) == nil {
                    try scanner.skipValue()
                }
            }
        }
        guard let id, let version else { throw JSONScanner.Failure(description: "a contact without id or version") }
        guard let contact = Contact(trustedValues: values) else {
            throw JSONScanner.Failure(description: "contact \(id) is not well-formed")
        }
        return StoredContact(id: id, version: version, contact: contact)
    }
}

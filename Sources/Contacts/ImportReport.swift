/// What an import did: the contract's `message` and `error`, the counts, and every error with its
/// line, column and value.
public struct ImportReport: Hashable, Sendable {
    public var imported: Int
    public var created: Int
    public var updated: Int
    public var deleted: Int
    public var unchanged: Int
    public var rejectedRows: [RejectedRow]
    /// The organization's change-log version after the import.
    public var version: Int64

    public init(imported: Int, created: Int, updated: Int, deleted: Int, unchanged: Int,
                rejectedRows: [RejectedRow], version: Int64) {
        self.imported = imported
        self.created = created
        self.updated = updated
        self.deleted = deleted
        self.unchanged = unchanged
        self.rejectedRows = rejectedRows
        self.version = version
    }

    /// `""` when every row was imported, else one contract line per rejected row joined by `\n`.
    public var error: String {
        rejectedRows.map(\.reportLine).joined(separator: "\n")
    }

    /// `{"message":"uploaded","error":"…","imported":…,"rejected":…,…,"errors":[…]}`.
    public var json: String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("message", "uploaded")
        writer.field("error", error)
        writer.field("imported", imported)
        writer.field("rejected", rejectedRows.count)
        writer.field("created", created)
        writer.field("updated", updated)
        writer.field("deleted", deleted)
        writer.field("unchanged", unchanged)
        writer.field("version", Int(version))
        writer.key("errors")
        Self.writeErrors(rejectedRows, to: &writer)
        writer.endObject()
        return writer.string
    }

    static func writeErrors(_ rows: [RejectedRow], to writer: inout JSONWriter) {
        writer.beginArray()
        for row in rows {
            for violation in row.violations {
                writer.beginObject()
                writer.field("line", row.line)
                if let field = violation.field { writer.field("column", field.rawValue) } else {
                    writer.key("column")
                    writer.null()
                }
                writer.field("value", violation.value)
                writer.field("rule", violation.ruleName)
                writer.field("message", violation.message)
                writer.endObject()
            }
        }
        writer.endArray()
    }
}

extension ImportRejection {
    /// `{"message":"rejected","error":"<what is wrong and how to fix it>","errors":[…]}`.
    public var json: String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("message", "rejected")
        writer.field("error", message)
        writer.key("errors")
        ImportReport.writeErrors(rejectedRows, to: &writer)
        writer.endObject()
        return writer.string
    }
}

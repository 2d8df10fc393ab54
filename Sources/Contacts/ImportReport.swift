/// What an import did: the contract's `message` and `error`, the counts, and every error with its
/// line, column and value.
public struct ImportReport: Hashable, Sendable {
    public var imported: Int
    public var created: Int
    public var updated: Int
    public var deleted: Int
    public var unchanged: Int
    public var rejected: RejectedRowList
    /// The organization's change-log version after the import.
    public var version: Int64
    /// A dry run: the counts say what the import would do; nothing was changed.
    public var dryRun = false

    public init(imported: Int, created: Int, updated: Int, deleted: Int, unchanged: Int,
                rejected: RejectedRowList, version: Int64) {
        self.imported = imported
        self.created = created
        self.updated = updated
        self.deleted = deleted
        self.unchanged = unchanged
        self.rejected = rejected
        self.version = version
    }

    /// The listed rejected rows.
    public var rejectedRows: [RejectedRow] { rejected.listed }

    /// `""` when every row was imported, else one contract line per listed rejected row joined by
    /// `\n` (and how many more were not listed).
    public var error: String { rejected.reportText }

    /// `{"message":"uploaded","error":"…","imported":…,"rejected":…,…,"errors":[…],"errorsOmitted":…}`:
    /// `rejected` counts every rejected row; `errors` lists those of the first ones (at most
    /// `RejectedRowList.listLimit` errors) and `errorsOmitted` says how many rows are not listed.
    public var json: String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("message", dryRun ? "checked" : "uploaded")
        if dryRun { writer.field("dryRun", true) }
        writer.field("error", error)
        writer.field("imported", imported)
        writer.field("rejected", rejected.count)
        writer.field("created", created)
        writer.field("updated", updated)
        writer.field("deleted", deleted)
        writer.field("unchanged", unchanged)
        writer.field("version", Int(version))
        Self.writeErrors(rejected, to: &writer)
        writer.endObject()
        return writer.string
    }

    /// `"errors":[…],"errorsOmitted":N`; a value is shown up to 100 characters.
    static func writeErrors(_ rejected: RejectedRowList, to writer: inout JSONWriter) {
        writer.key("errors")
        writer.beginArray()
        for row in rejected.listed {
            for violation in row.violations {
                writer.beginObject()
                writer.field("line", row.line)
                if let field = violation.field { writer.field("column", field.rawValue) } else {
                    writer.key("column")
                    writer.null()
                }
                writer.field("value", violation.value.unicodeScalars.count > 100
                    ? String(String.UnicodeScalarView(violation.value.unicodeScalars.prefix(100))) + "…" : violation.value)
                writer.field("rule", violation.ruleName)
                writer.field("message", violation.message)
                writer.endObject()
            }
        }
        writer.endArray()
        writer.field("errorsOmitted", rejected.omitted)
    }
}

extension ImportRejection {
    /// `{"message":"rejected","error":"<what is wrong and how to fix it>","errors":[…]}`.
    public var json: String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("message", "rejected")
        writer.field("error", message)
        ImportReport.writeErrors(rejected, to: &writer)
        writer.endObject()
        return writer.string
    }
}

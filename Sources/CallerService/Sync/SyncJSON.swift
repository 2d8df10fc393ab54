import Contacts
import Foundation
public import StoreContract

/// Sources and runs as the API, the command line and the admin page show them.
public enum SyncJSON {
    /// `{"id","url","format","mode","every","headers":{name:"Bearer ***"},"mapping",…,"lastRun":{…}}`;
    /// header values and URL passwords redacted.
    public static func source(_ source: SyncSource, lastRun: SyncRun?) -> String {
        var writer = JSONWriter()
        write(source, lastRun: lastRun, to: &writer)
        return writer.string
    }

    static func write(_ source: SyncSource, lastRun: SyncRun?, to writer: inout JSONWriter) {
        let shown = source.definition.redacted
        writer.beginObject()
        writer.field("id", Int(source.id))
        writer.field("url", shown.url)
        writer.field("format", shown.format.rawValue)
        writer.field("mode", shown.mode.rawValue)
        if let every = shown.everySeconds { writer.field("everySeconds", every) } else {
            writer.key("everySeconds")
            writer.null()
        }
        writer.key("headers")
        writer.beginObject()
        for header in shown.headers { writer.field(header.name, header.value) }
        writer.endObject()
        writer.key("mapping")
        writer.beginObject()
        for field in ContactField.allCases {
            if let source = shown.mapping[field.rawValue] { writer.field(field.rawValue, source) }
        }
        writer.endObject()
        for (name, value) in [("items", shown.itemsPath), ("next", shown.nextPath), ("region", shown.region)] {
            if let value { writer.field(name, value) }
        }
        writer.field("maxDeletePercent", shown.maxDeletePercent)
        writer.field("created", timestamp(Double(source.created)))
        if let lastRun {
            writer.key("lastRun")
            write(lastRun, to: &writer)
        }
        writer.endObject()
    }

    /// A run with the upload's report fields (`message`, `error`, the counts, `errors`) and its own
    /// (`outcome`, `trigger`, `httpStatus`, times).
    public static func run(_ run: SyncRun) -> String {
        var writer = JSONWriter()
        write(run, to: &writer)
        return writer.string
    }

    static func write(_ run: SyncRun, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", Int(run.id))
        writer.field("source", Int(run.sourceID))
        writer.field("outcome", run.outcome.rawValue)
        writer.field("trigger", run.trigger.rawValue)
        writer.field("started", timestamp(run.started))
        writer.field("finished", timestamp(run.finished))
        writer.field("milliseconds", Int(((run.finished - run.started) * 1_000).rounded()))
        if let status = run.httpStatus { writer.field("httpStatus", status) } else {
            writer.key("httpStatus")
            writer.null()
        }
        writer.field("pages", run.pages)
        writer.field("bytes", run.bytes)
        writer.field("message", run.message.isEmpty ? (run.outcome == .success ? "uploaded" : run.outcome.rawValue) : run.message)
        writer.field("error", run.errorLines.joined(separator: "\n"))
        writer.field("imported", run.imported)
        writer.field("rejected", run.rejected)
        writer.field("created", run.created)
        writer.field("updated", run.updated)
        writer.field("deleted", run.deleted)
        writer.field("unchanged", run.unchanged)
        if let version = run.version { writer.field("version", Int(version)) }
        writer.key("errors")
        writer.beginArray()
        for error in run.errors {
            writer.beginObject()
            writer.field("line", error.line)
            if let column = error.column { writer.field("column", column) } else {
                writer.key("column")
                writer.null()
            }
            writer.field("value", error.value)
            writer.field("rule", error.rule)
            writer.field("message", error.message)
            writer.endObject()
        }
        writer.endArray()
        writer.field("errorsOmitted", max(0, run.rejected - Set(run.errors.map(\.line)).count))
        writer.endObject()
    }

    static func timestamp(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds).formatted(.iso8601)
    }
}

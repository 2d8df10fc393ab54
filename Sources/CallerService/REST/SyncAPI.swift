import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StoreContract

/// `/v3/sync` (scope `admin`): the organization's CRM sync sources — added (checked first),
/// listed with their last run (header values redacted), removed, run now, and their runs.
extension Handlers {
    /// `GET /v3/sync` → `{"sources":[{…,"lastRun":{…}}]}`.
    @Sendable func listSyncSources(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("sources")
        writer.beginArray()
        for source in try await state.store.syncSources(organizationID: organization.id) {
            let last = try await state.store.syncRuns(sourceID: source.id, organizationID: organization.id, limit: 1).first
            SyncJSON.write(source, lastRun: last, to: &writer)
        }
        writer.endArray()
        writer.endObject()
        return HTTPAnswer.json(.ok, writer.bytes)
    }

    /// `POST /v3/sync` with the source → 201 with it (header values redacted from then on); 422
    /// with the reason for a source that could never import.
    @Sendable func addSyncSource(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let definition = try SyncRules.checked(try Self.syncDefinition(try await jsonBody(request, limit: 65_536)), validator: state.validator)
        let source = try await state.store.addSyncSource(definition, organizationID: organization.id)
        var response = HTTPAnswer.json(.created, Array(SyncJSON.source(source, lastRun: nil).utf8))
        response.headers[.location] = "/v3/sync/\(source.id)"
        return response
    }

    /// `DELETE /v3/sync/{id}` → 200 with the removed source; a run in progress on this node stops
    /// and imports nothing (on another node, it imports nothing once it sees the source gone).
    @Sendable func removeSyncSource(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let source = try await syncSource(context, organization: organization)
        try await state.store.removeSyncSource(id: source.id, organizationID: organization.id)
        state.sync.cancel(sourceID: source.id)
        return HTTPAnswer.json(.ok, Array(SyncJSON.source(source, lastRun: nil).utf8))
    }

    /// `POST /v3/sync/{id}/run` → the run once it ended (its `outcome` says how); 409 while the
    /// source is running already.
    @Sendable func runSyncSource(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let source = try await syncSource(context, organization: organization)
        do {
            let run = try await state.sync.runNow(sourceID: source.id, organizationID: organization.id)
            return HTTPAnswer.json(.ok, Array(SyncJSON.run(run).utf8))
        } catch let busy as SyncBusy {
            throw HTTPError(.conflict, message: busy.description)
        }
    }

    /// `GET /v3/sync/{id}/runs` → `{"runs":[…]}`, newest first (the last 50).
    @Sendable func syncRuns(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let source = try await syncSource(context, organization: organization)
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("runs")
        writer.beginArray()
        for run in try await state.store.syncRuns(sourceID: source.id, organizationID: organization.id, limit: SyncRun.kept) {
            SyncJSON.write(run, to: &writer)
        }
        writer.endArray()
        writer.endObject()
        return HTTPAnswer.json(.ok, writer.bytes)
    }

    private func syncSource(_ context: CallerRequestContext, organization: Organization) async throws -> SyncSource {
        guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
            throw HTTPError(.notFound, message: "A sync source's id is a positive integer (see GET /v3/sync).")
        }
        guard let source = try await state.store.syncSources(organizationID: organization.id).first(where: { $0.id == id }) else {
            throw HTTPError(.notFound, message: "The organization has no sync source \(id).")
        }
        return source
    }

    /// The source of a `POST /v3/sync` body, unchecked; a body of another shape is a 400 that says what.
    static func syncDefinition(_ bytes: [UInt8]) throws -> SyncDefinition {
        let example = #"{"url":"https://crm.example.com/export.csv","mapping":{"lastName":"Surname","phone1":"Mobile Phone"}}"#
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw InputError("The body is not a sync source, a JSON object such as \(example).")
        }
        let known = ["url", "format", "mode", "every", "headers", "mapping", "items", "next", "region", "maxDeletePercent"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw InputError("Unknown member '\(unknown.prefix(40))'; a sync source has \(known.joined(separator: ", ")).")
        }
        func string(_ key: String) throws -> String? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            guard let text = value as? String else { throw InputError("'\(key)' is a string.") }
            return text
        }
        func strings(_ key: String) throws -> [String: String] {
            guard let value = object[key], !(value is NSNull) else { return [:] }
            guard let members = value as? [String: Any] else { throw InputError("'\(key)' is an object of strings.") }
            var result: [String: String] = [:]
            for (name, value) in members {
                guard let text = value as? String else { throw InputError("'\(key).\(name.prefix(40))' is a string.") }
                result[name] = text
            }
            return result
        }
        guard let url = try string("url") else { throw InputError("Give the export's URL: \(example).") }
        let format = try string("format") ?? "csv"
        let mode = try string("mode") ?? "replace"
        guard let knownFormat = SyncDefinition.Format(rawValue: format.lowercased()) else {
            throw SyncRules.refused("The format is csv or json; '\(format.prefix(40))' is not.")
        }
        guard let knownMode = SyncDefinition.Mode(rawValue: mode.lowercased()) else {
            throw SyncRules.refused("The mode is replace or upsert; '\(mode.prefix(40))' is not.")
        }
        var every: Int?
        switch object["every"] {
        case nil, is NSNull: every = nil
        case let text as String: every = try SyncRules.seconds(of: text)
        case let number as NSNumber
            where String(cString: number.objCType) != "c" && number.doubleValue.rounded() == number.doubleValue && abs(number.doubleValue) < 1e9:
            every = number.intValue
        default: throw InputError("'every' is a duration such as \"15m\" (or whole seconds), or null for runs by hand only.")
        }
        var maxDelete = 50
        if let value = object["maxDeletePercent"], !(value is NSNull) {
            guard let number = value as? NSNumber, String(cString: number.objCType) != "c", number.doubleValue.rounded() == number.doubleValue,
                  abs(number.doubleValue) < 1e9
            else { throw InputError("'maxDeletePercent' is a whole number from 0 to 100.") }
            maxDelete = number.intValue
        }
        return SyncDefinition(
            url: url, format: knownFormat, mode: knownMode, everySeconds: every,
            headers: try strings("headers").sorted { $0.key < $1.key }.map { SyncDefinition.Header(name: $0.key, value: $0.value) },
            mapping: try strings("mapping"), itemsPath: try string("items"), nextPath: try string("next"), region: try string("region"),
            maxDeletePercent: maxDelete)
    }
}

import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import StoreContract

/// REST: single contacts, upsert by `externalId`, the list, and the change feed (docs/api.md). Every
/// write is answered once the organization's index has reached it (read-your-writes); the
/// catch-up that gets it there wakes the long-polling followers.
extension Handlers {
    static let jsonBodyLimit = 1 << 20
    static let logger = Logger(label: "caller-lookup")

    private func body(_ request: Request) async throws -> [UInt8] {
        try await jsonBody(request, limit: Self.jsonBodyLimit)
    }

    /// A JSON request body of at most `limit` bytes. Its `Content-Type` is `application/json` (or
    /// another `…+json`); any other, or none, is refused with 415 before the body is read: a form
    /// on another site can send `text/plain` or no type without the browser asking first, never
    /// `application/json`.
    func jsonBody(_ request: Request, limit: Int) async throws -> [UInt8] {
        let type = request.headers[.contentType] ?? ""
        let media = type.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard media == "application/json" || (media.hasPrefix("application/") && media.hasSuffix("+json")) else {
            throw HTTPError(
                .unsupportedMediaType,
                message: type.isEmpty
                    ? "The body is JSON: send Content-Type: application/json."
                    : "The body is JSON: send Content-Type: application/json (not '\(PhoneSystemText.render(String(type.prefix(60)), maxLength: 60))').")
        }
        do {
            return Array(buffer: try await request.body.collect(upTo: limit))
        } catch is NIOTooManyBytesError {
            throw HTTPError(.contentTooLarge, message: "The JSON body is larger than \(limit >> 20) MiB.")
        }
    }

    private func contactID(_ context: CallerRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
            throw HTTPError(.notFound, message: "A contact id is a positive integer.")
        }
        return id
    }

    /// Runs a write on the store's writer thread, then waits until the organization's index has
    /// reached the version it committed.
    private func answering(
        _ organization: Organization, _ body: () async throws -> (response: Response, version: Int64)
    ) async throws -> Response {
        let (response, version) = try await body()
        await state.indexes.awaitVersion(version, of: organization.id)
        return response
    }

    static func contactJSON(_ stored: StoredContact) -> [UInt8] {
        var bytes: [UInt8] = []
        stored.contact.writeJSON(id: stored.id, version: stored.version, to: &bytes)
        return bytes
    }

    @Sendable func createContact(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        return try await answering(organization) {
            let contact = try ContactInput.contact(try ContactInput.fields(from: try await body(request)), validator: state.validator)
            let stored = try await state.store.create(contact, organizationID: organization.id)
            var response = HTTPAnswer.json(.created, Self.contactJSON(stored))
            response.headers[.location] = "/v3/contacts/\(stored.id)"
            return (response, stored.version)
        }
    }

    @Sendable func getContact(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        guard let id = context.parameters.get("id", as: Int64.self),
            let stored = try await state.store.contact(id: id, organizationID: organization.id)
        else { return HTTPAnswer.error(.notFound, "No such contact.") }
        return HTTPAnswer.json(.ok, Self.contactJSON(stored))
    }

    /// `GET /v3/contacts?after=ID&limit=N` → `{"contacts":[…],"next":"ID"|null}`, in id order.
    @Sendable func listContacts(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let query = Query(context)
        let after = try query.integer("after", in: 0...Int64.max) ?? 0
        let limit = Int(try query.integer("limit", in: 1...1_000) ?? 100)
        let page = try await state.store.contactsPage(organizationID: organization.id, afterID: after, limit: limit)
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("contacts")
        writer.beginArray()
        for stored in page { stored.contact.writeJSON(id: stored.id, version: stored.version, to: &writer) }
        writer.endArray()
        writer.key("next")
        if page.count == limit, let last = page.last { writer.value(String(last.id)) } else { writer.null() }
        writer.endObject()
        return HTTPAnswer.json(.ok, writer.bytes)
    }

    @Sendable func replaceContact(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        return try await answering(organization) {
            let id = try contactID(context)
            let contact = try ContactInput.contact(try ContactInput.fields(from: try await body(request)), validator: state.validator)
            let stored = try await state.store.replace(id: id, with: contact, organizationID: organization.id)
            return (HTTPAnswer.json(.ok, Self.contactJSON(stored)), stored.version)
        }
    }

    @Sendable func patchContact(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        return try await answering(organization) {
            let id = try contactID(context)
            let fields = try ContactInput.fields(from: try await body(request))
            let validator = state.validator
            let stored = try await state.store.update(id: id, organizationID: organization.id) { existing in
                try ContactInput.patched(existing, with: fields, validator: validator)
            }
            return (HTTPAnswer.json(.ok, Self.contactJSON(stored)), stored.version)
        }
    }

    @Sendable func deleteContact(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        return try await answering(organization) {
            let id = try contactID(context)
            let version = try await state.store.delete(id: id, organizationID: organization.id)
            return (Response(status: .noContent), version)
        }
    }

    /// `PUT /v3/contacts/external/{externalId}`: create or replace the contact with that externalId.
    @Sendable func upsertExternal(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        return try await answering(organization) {
            let raw = try context.parameters.require("externalId")
            let externalId = PercentEncoding.decoded(raw) ?? raw
            var fields = try ContactInput.fields(from: try await body(request))
            if let given = fields[.externalId], let given, !given.isEmpty, given != externalId {
                throw InputError("The body's externalId '\(given)' differs from the path's '\(externalId)'.")
            }
            fields[.externalId] = externalId
            let contact = try ContactInput.contact(fields, validator: state.validator)
            let (stored, created) = try await state.store.upsert(
                externalId: contact[.externalId], contact: contact, organizationID: organization.id)
            return (HTTPAnswer.json(created ? .created : .ok, Self.contactJSON(stored)), stored.version)
        }
    }

    /// `GET /v3/contacts/changes?since=V[&wait=S][&limit=L]`: the change feed, long-polled.
    @Sendable func changes(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let query = Query(context)
        guard let since = try query.integer("since", in: 0...Int64.max) else {
            return HTTPAnswer.error(.badRequest, "Give the version you have as ?since=V (0 for everything).")
        }
        // Longer waits are cut to the server's limit (`changes.waitlimit`).
        let wait = min(Double(state.configuration.longPollLimitSeconds), try query.number("wait", in: 0...3_600) ?? 0)
        let limit = Int(try query.integer("limit", in: 1...10_000) ?? 1_000)
        // A reader connection: a running import does not hold the feed up.
        var batch = try await state.store.changes(organizationID: organization.id, after: since, limit: limit)
        if batch.changes.isEmpty, !batch.resync, wait > 0, batch.version <= since {
            await state.notifier.wait(organizationID: organization.id, after: since, timeout: .milliseconds(Int(wait * 1_000)))
            batch = try await state.store.changes(organizationID: organization.id, after: since, limit: limit)
        }
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("version", Int(batch.version))
        writer.key("changes")
        writer.beginArray()
        for change in batch.changes {
            writer.beginObject()
            switch change {
            case .upsert(let stored):
                writer.field("op", "upsert")
                writer.key("contact")
                stored.contact.writeJSON(id: stored.id, version: stored.version, to: &writer)
            case .delete(let id, let version):
                writer.field("op", "delete")
                writer.field("id", Int(id))
                writer.field("version", Int(version))
            }
            writer.endObject()
        }
        writer.endArray()
        writer.field("resync", batch.resync)
        // Mirrors check again what they keep for an outage when it moves (a token revoked, a
        // password or the organization's settings changed).
        writer.field("credentialsVersion", Int(try await state.store.credentialsVersion()))
        if let labels = batch.labels {
            // The organization's labels as of `version`, present when they changed in this batch.
            writer.key("labels")
            writer.writeLabels(labels)
        }
        writer.endObject()
        return HTTPAnswer.json(.ok, writer.bytes)
    }

    /// Every contact of the organization and the version they reflect, read in one transaction:
    /// the full load of a mirror. Streamed in chunks, so a million contacts never sit in one buffer.
    /// `GET /v3/contacts/export`: the contacts as the upload's CSV (`ContactExport`), streamed a
    /// page at a time; uploading it again reports every row unchanged.
    @Sendable func export(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let store = state.store
        let body = ResponseBody { output in
            try await ContactExport.write(from: store, organizationID: organization.id) { text in
                try await output.write(ByteBuffer(string: text))
            }
            try await output.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"contacts.csv\""], body: body)
    }

    @Sendable func snapshot(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let load = try await state.store.fullLoad(organizationID: organization.id)
        let body = ResponseBody { output in
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("version", Int(load.version))
            writer.field("count", load.contacts.count)
            writer.key("labels")
            writer.writeLabels(load.labels)
            writer.key("contacts")
            writer.beginArray()
            for stored in load.contacts {
                stored.contact.writeJSON(id: stored.id, version: stored.version, to: &writer)
                if writer.bytes.count >= 1 << 20 { try await output.write(ByteBuffer(bytes: writer.takeBytes())) }
            }
            writer.endArray()
            writer.endObject()
            try await output.write(ByteBuffer(bytes: writer.takeBytes()))
            try await output.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: body)
    }

    /// Who the credentials belong to: `{"organization":{"id","name","defaultRegion","suffixDigits","version"}}`.
    /// Mirrors verify their callers' credentials with it.
    @Sendable func whoami(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let current = try await state.store.organization(id: organization.id) ?? organization
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("organization")
        Self.write(current, to: &writer)
        writer.field("scope", (context.scope ?? .lookup).rawValue)
        writer.endObject()
        return HTTPAnswer.json(.ok, writer.bytes)
    }

    /// `{"id","name","defaultRegion","suffixDigits","version","labels"}`.
    static func write(_ organization: Organization, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", Int(organization.id))
        writer.field("name", organization.name)
        writer.field("defaultRegion", organization.defaultRegion)
        writer.field("suffixDigits", organization.suffixDigits)
        writer.field("version", Int(organization.version))
        writer.key("labels")
        writer.writeLabels(organization.labels)
        writer.endObject()
    }

    /// `PATCH /v3/organization` `{"defaultRegion":"SK","suffixDigits":12}` (either or both): the
    /// organization's settings changed; this node rebuilds its index before answering, the others
    /// when they follow the store. Answers the organization as `whoami` shows it.
    @Sendable func updateOrganization(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        var scanner = JSONScanner(try await jsonBody(request, limit: 4_096))
        var region: String?
        var digits: Int64?
        do throws(JSONScanner.Failure) {
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                switch key {
                case "defaultRegion": region = try scanner.string()
                case "suffixDigits": digits = try scanner.int64()
                default: throw JSONScanner.Failure(description: "unknown member '\(key.prefix(40))' (here: defaultRegion, suffixDigits)")
                }
            }
            try ChangeFeedJSON.trailing(&scanner)
        } catch {
            throw InputError("The body is not an organization's settings: \(error.description).")
        }
        guard region != nil || digits != nil else { throw InputError("Give the organization's new defaultRegion, suffixDigits, or both.") }
        guard digits.map({ (4...15).contains($0) }) ?? true else { throw InputError("The suffix length must be between 4 and 15 digits.") }
        let (_, updated) = try await state.store.updateOrganization(
            id: organization.id, defaultRegion: region, suffixDigits: digits.map { Int($0) })
        state.credentialsChanged()
        try await state.indexes.catchUp()
        var writer = JSONWriter()
        Self.write(updated, to: &writer)
        return HTTPAnswer.json(.ok, writer.bytes)
    }

    /// The organization's field labels: `{"labels":{"customField1":"Důležitost",…}}`.
    @Sendable func labels(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let known = try organization(context)
        let organization = try await state.store.organization(id: known.id) ?? known
        return Self.labelsAnswer(organization)
    }

    /// Sets labels from `{"customField1":"Důležitost","customField2":null}` (`null` or `""` clears);
    /// answers the organization's labels afterwards.
    @Sendable func setLabels(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let bytes = try await body(request)
        let changes = try ContactInput.labelChanges(from: bytes)
        let updated = try await state.store.setLabels(changes, organizationID: organization.id)
        // A versioned change: lookups show the new labels once this answer is sent.
        await state.indexes.awaitVersion(updated.version, of: updated.id)
        state.authenticator.update(updated)
        return Self.labelsAnswer(updated)
    }

    private static func labelsAnswer(_ organization: Organization) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("labels")
        writer.writeLabels(organization.labels)
        writer.endObject()
        return HTTPAnswer.json(.ok, writer.bytes)
    }
}

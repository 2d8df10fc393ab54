import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import LookupIndex
import StoreContract

/// An organization's index and the lookup that reads it.
struct IndexEntry: Sendable {
    let index: OrganizationIndex
    let lookup: CallerLookup
}

/// Where the lookup routes find an organization's index: the store-fed indexes of an API node, or
/// the one followed organization of a mirror.
protocol IndexProvider: Sendable {
    /// Throws an `HTTPError` the client should see (403 on a mirror of another organization, 503
    /// while a mirror has nothing loaded).
    func entry(for organization: Organization) throws -> IndexEntry
}

extension CallerRequestContext {
    /// The organization `Authentication` let in.
    func requireOrganization() throws -> Organization {
        guard let organization else { throw HTTPError(.unauthorized) }
        return organization
    }

    /// The caller number of a lookup route: the path's `{phoneNumber}`, or `?number=` (where a
    /// PBX cannot put the number in the path).
    func callerNumber(_ request: Request) throws -> String {
        if parameters.get("phoneNumber") != nil { return try pathParameter("phoneNumber") }
        guard let number = try Query(self).string("number"), !number.isEmpty else {
            throw InputError("Give the caller's number in the path or as ?number=.")
        }
        return number
    }

    /// A path parameter, percent-decoded.
    func pathParameter(_ name: String) throws -> String {
        let raw = try parameters.require(name)
        return PercentEncoding.decoded(raw) ?? raw
    }
}

/// The lookup routes, the same on API nodes and mirrors.
struct LookupHandlers: Sendable {
    let indexes: any IndexProvider
    let metrics: ServiceMetrics
    /// The popup links of the answers; `nil` on a mirror, which holds no key to sign them.
    let links: PopupLinks?

    /// The caller number of the request (path or `?number=`, at most 64 characters) looked up in
    /// the caller's organization, counted in the lookup metrics.
    func measuredLookUp(_ request: Request, context: CallerRequestContext) throws -> LookupResult {
        let organization = try context.requireOrganization()
        let number = try context.callerNumber(request)
        guard number.unicodeScalars.count <= 64 else { throw InputError("A phone number has at most 64 characters.") }
        let entry = try indexes.entry(for: organization)
        let started = ContinuousClock.now
        let result = entry.lookup.lookUp(number, in: entry.index.snapshot)
        metrics.lookup(result.match, nanoseconds: (ContinuousClock.now - started).nanoseconds)
        return result
    }

    /// The best match of a lookup with its popup link, if any.
    func answer(_ result: LookupResult, request: Request, context: CallerRequestContext) async throws -> CallerAnswer? {
        guard var answer = CallerAnswer(result) else { return nil }
        answer.url = await links?.url(
            organization: try context.requireOrganization(), number: result.normalized, holder: context.holder, request: request)
        return answer
    }

    /// `GET /v3/contacts/lookup/{phoneNumber}` and `GET /v3/contacts/lookup?number=`: every match,
    /// as JSON or `?format=kv`, with the best match's `X-Caller-*` headers.
    @Sendable func lookup(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let result = try measuredLookUp(request, context: context)
        let answer = try await answer(result, request: request, context: context)
        var response: Response
        if try Self.keyValues(context) {
            response = HTTPAnswer.text(answer == nil ? .notFound : .ok, CallerAnswer.keyValues(answer))
        } else {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(1_024)
            // The labels of the same snapshot as the contacts: one version, on API nodes and mirrors.
            result.writeJSON(labels: result.snapshot.labels, url: answer?.url, to: &bytes)
            response = HTTPAnswer.json(answer == nil ? .notFound : .ok, bytes)
        }
        if let answer { response.headers.append(contentsOf: answer.headers) }
        return response
    }

    /// `GET /v3/contacts/lookup?email=` (every contact with that address), or `?number=` (the
    /// number lookup).
    @Sendable func lookupByQuery(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let query = Query(context)
        let number = try query.string("number")
        let email = try query.string("email")
        guard number == nil || email == nil else {
            return HTTPAnswer.error(.badRequest, "Give ?number= or ?email=, not both.")
        }
        if number != nil { return try await lookup(request, context: context) }
        guard try !Self.keyValues(context) else { return HTTPAnswer.error(.badRequest, "?format=kv is for number lookups.") }
        return try await lookupByEmail(request, context: context)
    }

    private func lookupByEmail(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try context.requireOrganization()
        guard let email = try Query(context).string("email"), !email.isEmpty, email.unicodeScalars.count <= 254
        else { return HTTPAnswer.error(.badRequest, "Give the address as ?email=jan@novak.com (or the caller's number as ?number=).") }
        let snapshot = try indexes.entry(for: organization).index.snapshot
        let started = ContinuousClock.now
        let matches = snapshot.contacts(withEmail: email)
        metrics.lookup(matches.isEmpty ? .none : .exact, nanoseconds: (ContinuousClock.now - started).nanoseconds)
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("email", email)
        writer.field("match", matches.isEmpty ? "none" : "exact")
        writer.field("version", Int(snapshot.version))
        writer.key("labels")
        writer.writeLabels(snapshot.labels)
        writer.key("contacts")
        writer.rawValue { snapshot.writeJSONArray(matches, to: &$0) }
        writer.endObject()
        return HTTPAnswer.json(matches.isEmpty ? .notFound : .ok, writer.bytes)
    }

    /// IVR: the agent tags of the best match, as JSON or (Accept: text/plain) one line `22,100`.
    @Sendable func route(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let plain = (request.headers[.accept] ?? "").lowercased().hasPrefix("text/plain")
        let keyValues = try Self.keyValues(context)
        let result = try measuredLookUp(request, context: context)
        guard let answer = try await answer(result, request: request, context: context),
            let best = result.snapshot.refs(result.matches).first
        else {
            if keyValues { return HTTPAnswer.text(.notFound, CallerAnswer.keyValues(nil)) }
            return plain ? HTTPAnswer.text(.notFound, "\n") : HTTPAnswer.error(.notFound, "No contact has the number \(result.number).")
        }
        let contact = result.snapshot.storedContact(best)
        let agents = answer.agents
        var response: Response
        if keyValues {
            response = HTTPAnswer.text(.ok, CallerAnswer.keyValues(answer))
        } else if plain {
            response = HTTPAnswer.text(.ok, agents.joined(separator: ",") + "\n")
        } else {
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("agents")
            writer.beginArray()
            for agent in agents { writer.value(agent) }
            writer.endArray()
            writer.field("contactId", Int(contact.id))
            writer.field("match", result.match.rawValue)
            writer.field("version", Int(result.snapshot.version))
            writer.endObject()
            response = HTTPAnswer.json(.ok, writer.bytes)
        }
        response.headers.append(contentsOf: answer.headers)
        return response
    }

    /// Whether `?format=kv` asks for `name=…&agents=…` instead of JSON.
    static func keyValues(_ context: CallerRequestContext) throws(InputError) -> Bool {
        switch try Query(context).string("format") {
        case nil: false
        case "kv"?: true
        default: throw InputError("?format= is kv (name=…&organization=…&agents=…&match=…) or absent (JSON).")
        }
    }
}

import Contacts
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// One shape for every error answer, `{"error":"…"}`: an error that renders itself
/// (`HTTPResponseError`: the domain's, in `ErrorResponses.swift`) answers for itself, Hummingbird's
/// `HTTPError` in our shape (Hummingbird's own would answer `{"error":{"message":…}}` or nothing),
/// anything else a 500 that names no internals; `405 Method Not Allowed` with `Allow` for a method a
/// known path does not have (the router alone answers those 404); and 400 for a query parameter the
/// route does not take (one rule everywhere, as the OpenAPI document says).
struct ErrorAnswers: RouterMiddleware {
    typealias Context = CallerRequestContext

    private struct Template {
        let segments: [Substring]
        var methods: [HTTPRequest.Method: Set<String>]
    }

    /// Every path template (`/v3/contacts/{id}`), its methods and their query parameters.
    private let templates: [Template]
    /// The index in `templates` of each template's path as the router names the route it
    /// matched (`context.endpointPath`): one hash probe per request instead of a search.
    private let byEndpoint: [String: Int]

    /// `described`: `METHOD /path` of every route; `queries`: the query parameters of those that take
    /// some, by the same key.
    init(described: [String], queries: [String: [String]]) {
        var templates: [Template] = []
        for route in described {
            let parts = route.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let method = HTTPRequest.Method(String(parts[0])) else { continue }
            let segments = parts[1].split(separator: "/")
            // Every API route takes an access token as `?token=` (`Authentication`).
            let query = Set(queries[route] ?? []).union(parts[1].hasPrefix("/v3/") ? ["token"] : [])
            if let index = templates.firstIndex(where: { $0.segments == segments }) {
                templates[index].methods[method] = query
            } else {
                templates.append(Template(segments: segments, methods: [method: query]))
            }
        }
        self.templates = templates
        byEndpoint = Dictionary(
            templates.enumerated().map { ("/" + $0.element.segments.joined(separator: "/"), $0.offset) }, uniquingKeysWith: { first, _ in first })
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await answer(request, context: context, next: next)
        // The name route's errors have no body: phone systems show any body as the caller's name.
        guard response.status.code >= 400, request.uri.path.hasPrefix(CallerNameAnswers.pathPrefix),
            response.headers[.contentType]?.hasPrefix("text/plain") != true
        else { return response }
        return CallerNameAnswers.empty(response.status, headers: response.headers)
    }

    private func answer(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if request.uri.query != nil { context.queryParameters = request.uri.queryParameters }
        if !context.queryParameters.isEmpty, let template = template(of: request.uri.path, context: context),
            let allowed = template.methods[request.method]
        {
            for (name, _) in context.queryParameters where !allowed.contains(String(name)) {
                let takes = allowed.isEmpty ? "no query parameters" : "only " + allowed.sorted().map { "?\($0)=" }.joined(separator: ", ")
                return HTTPAnswer.error(.badRequest, "Unknown query parameter '\(String(name).prefix(40))': this route takes \(takes).")
            }
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            if error.status == .notFound, let template = template(of: request.uri.path, context: context),
                template.methods[request.method] == nil
            {
                var response = HTTPAnswer.error(.methodNotAllowed, "\(request.method) is not a method of \(request.uri.path).")
                response.headers[.allow] = template.methods.keys.map(\.rawValue).sorted().joined(separator: ", ")
                return response
            }
            var response = HTTPAnswer.error(error.status, error.body ?? error.status.reasonPhrase)
            for field in error.headers where field.name != .contentType && field.name != .contentLength {
                response.headers.append(field)
            }
            return response
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        } catch {
            return HTTPAnswer.internalError(error, logger: context.logger)
        }
    }

    /// The template `path` matches (`{…}` matches any one segment): the routed endpoint's, else
    /// found by its segments (a path no route has, a method it does not).
    private func template(of path: String, context: Context) -> Template? {
        if let endpoint = context.endpointPath, let index = byEndpoint[endpoint] { return templates[index] }
        let segments = path.split(separator: "/")
        return templates.first { template in
            template.segments.count == segments.count
                && zip(template.segments, segments).allSatisfy { $0.first == "{" || $0 == $1 }
        }
    }
}

/// The query parameters of a request, read strictly: a parameter given twice, or a value that is
/// not what the route documents, is a 400 that says which (`ErrorAnswers` refuses the parameters a
/// route does not take).
struct Query {
    let parameters: FlatDictionary<Substring, Substring>

    init(_ context: CallerRequestContext) { parameters = context.queryParameters }

    /// The one value of `name`, if given, percent-decoded once (by Hummingbird: `%2540` is `%40`,
    /// not `@`).
    func string(_ name: String) throws(InputError) -> String? {
        let values = parameters.getAll(name)
        guard values.count <= 1 else { throw InputError("Give ?\(name)= once.") }
        return values.first.map { String($0) }
    }

    /// An integer in `range`, if given.
    func integer(_ name: String, in range: ClosedRange<Int64>) throws(InputError) -> Int64? {
        guard let text = try string(name) else { return nil }
        guard let value = Int64(text), range.contains(value) else {
            throw InputError("?\(name)= is an integer from \(range.lowerBound) to \(range.upperBound); '\(text.prefix(40))' is not.")
        }
        return value
    }

    /// `true` or `false` (also `1`, `0`), if given.
    func flag(_ name: String) throws(InputError) -> Bool? {
        guard let text = try string(name) else { return nil }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw InputError("?\(name)= is true or false; '\(text.prefix(40))' is not.")
        }
    }

    /// A number in `range`, if given.
    func number(_ name: String, in range: ClosedRange<Double>) throws(InputError) -> Double? {
        guard let text = try string(name) else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw InputError("?\(name)= is a number from \(range.lowerBound) to \(range.upperBound); '\(text.prefix(40))' is not.")
        }
        return value
    }
}

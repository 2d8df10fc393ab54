import Contacts
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import LookupIndex
import NIOCore
import PhoneNumbers
import StoreContract

/// One API node: its shared state, the HTTP application over it and the service that keeps its
/// indexes following the store. `caller-lookup serve` runs both in one `ServiceGroup`
/// (`[application, follower]`: shut down in reverse order, the follower first answers the pending
/// long polls); tests drive the application in-process, with or without the follower.
public struct CallerNode: Sendable {
    let state: ServiceState

    public init(configuration: ServiceConfiguration, store: any RecordStore) {
        ProcessMemory.configured
        state = ServiceState(configuration: configuration, store: store)
    }

    /// The HTTP application.
    public func application(logger: Logger? = nil) -> some ApplicationProtocol {
        buildApplication(state: state, logger: logger)
    }

    /// The follower of this node's store. From this call on the node counts as warming up:
    /// lookups of organizations not built yet answer 503 and `/health` says `loading` until the
    /// service has built every index.
    public func follower(interval: Duration = .milliseconds(50), logger: Logger = Logger(label: "caller-lookup.follower"))
        -> StoreFollowerService
    {
        state.indexes.expectWarmUp()
        return StoreFollowerService(state: state, interval: interval, logger: logger)
    }
}

/// Builds the HTTP application of a node without a follower service (indexes are built on first
/// use and caught up when a write's handler asks); the tests of the routes drive it in-process.
public func buildApplication(
    configuration: ServiceConfiguration, store: any RecordStore, logger: Logger? = nil
) -> some ApplicationProtocol {
    CallerNode(configuration: configuration, store: store).application(logger: logger)
}

private func buildApplication(state: ServiceState, logger: Logger?) -> some ApplicationProtocol {
    let configuration = state.configuration
    let router = Router(context: CallerRequestContext.self)
    router.add(middleware: ErrorAnswers(described: APIRoutes.described, queries: APIRoutes.queries))
    router.add(middleware: CrossSiteGuard(publicURL: configuration.publicURL))
    router.get("/health") { _, _ in
        // A load balancer's readiness check: 503 until every index is built. A store that cannot be
        // read is reported but keeps the node ready: lookups answer from memory, writes answer 503.
        let storeProblem = state.storeProblem.current
        var writer = JSONWriter()
        writer.beginObject()
        let progress = state.indexes.loading
        writer.field("status", progress == nil ? "ok" : "loading")
        if let progress {
            writer.field("indexesBuilt", progress.built)
            writer.field("organizations", progress.total)
        }
        writer.field("store", storeProblem == nil ? "ok" : "unreachable")
        if let storeProblem { writer.field("storeError", String(storeProblem.prefix(200))) }
        writer.endObject()
        guard progress != nil else { return HTTPAnswer.json(.ok, writer.bytes) }
        var response = HTTPAnswer.json(.serviceUnavailable, writer.bytes)
        response.headers[.retryAfter] = "1"
        return response
    }
    addMetricsRoute(to: router, state.metrics, token: configuration.metricsToken)
    router.get("/openapi.yaml") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
    }
    let popup = PopupHandler(state: state)
    router.get("/popup", use: popup.popup)
    AdminHandlers(state: state).register(on: router)
    let handlers = Handlers(state: state)
    addAPIRoutes(APIRoutes.all.map { ($0, $0.handler(handlers)) }, to: router, authenticator: state.authenticator)
    return makeApplication(router: router, configuration: configuration, name: "caller-lookup", logger: logger)
}

/// Registers `routes` below `/v3` behind authentication (a user's login or an access token), each
/// behind its scope. (The name routes' errors, the authentication's included, lose their body in
/// `ErrorAnswers`, which wraps every route.)
func addAPIRoutes(
    _ routes: [(route: APIRoutes.Route, handler: APIRoutes.Route.Handler)], to router: Router<CallerRequestContext>,
    authenticator: Authenticator
) {
    let api = router.group("v3").add(middleware: Authentication(authenticator: authenticator))
    for (route, handler) in routes {
        api.on(RouterPath(route.path), method: route.method, use: route.checkingScope(handler))
    }
}

/// `GET /metrics`: Prometheus text — the same on API nodes and mirrors. Without credentials the
/// service's totals only; with `Authorization: Bearer <metrics.token>` also the per-organization
/// series, which name the tenants.
func addMetricsRoute(to router: Router<CallerRequestContext>, _ metrics: ServiceMetrics, token: String?) {
    let expected = token.map { Array("Bearer \($0)".utf8) }
    router.get("/metrics") { request, _ in
        let presented = request.headers[.authorization].map { Array($0.utf8) }
        let tenants = expected.map { expected in presented.map { Crypto.constantTimeEqual($0, expected) } ?? false } ?? false
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition(tenants: tenants))))
    }
}

/// The HTTP server of API nodes and mirrors: address, idle timeout, log level from `configuration`.
func makeApplication(
    router: Router<CallerRequestContext>, configuration: ServiceConfiguration, name: String, logger: Logger? = nil
) -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: name)
    logger.logLevel = configuration.logLevel
    return Application(
        router: router,
        server: configuration.server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: name),
        logger: logger
    )
}

/// Every authenticated route, in one table: the server registers it, and a test checks it against
/// the OpenAPI document in both directions.
public enum APIRoutes {
    struct Route {
        typealias Handler = @Sendable (Request, CallerRequestContext) async throws -> Response
        let method: HTTPRequest.Method
        /// Below `/v3/`, with `{parameter}` segments as in the OpenAPI document.
        let path: String
        /// What an access token needs to use the route: `lookup` for reads, `write` for the
        /// single-contact writes, `admin` for the upload, labels and tokens.
        let scope: AccessScope
        let handler: @Sendable (Handlers) -> Handler
        /// A lookup route's handler, which mirrors serve too.
        let lookupHandler: (@Sendable (LookupHandlers) -> Handler)?

        /// A route whose scope is `lookup` for `GET`, `write` otherwise, unless `scope` says.
        init(
            method: HTTPRequest.Method, path: String, scope: AccessScope? = nil, handler: @escaping @Sendable (Handlers) -> Handler
        ) {
            self.method = method
            self.path = path
            self.scope = scope ?? (method == .get ? .lookup : .write)
            self.handler = handler
            self.lookupHandler = nil
        }

        init(method: HTTPRequest.Method, path: String, lookup: @escaping @Sendable (LookupHandlers) -> Handler) {
            self.method = method
            self.path = path
            self.scope = .lookup
            self.handler = { lookup($0.lookups) }
            self.lookupHandler = lookup
        }
    }

    static let all: [Route] = [
            Route(method: .post, path: "contacts/upload", scope: .admin, handler: { $0.upload }),
            Route(method: .get, path: "contacts/validator/phone-number/{phoneNumber}", handler: { $0.validate }),
            Route(method: .get, path: "contacts/lookup/{phoneNumber}", lookup: { $0.lookup }),
            Route(method: .get, path: "contacts/lookup", lookup: { $0.lookupByQuery }),
            Route(method: .get, path: "contacts/route/{phoneNumber}", lookup: { $0.route }),
            Route(method: .get, path: "contacts/route", lookup: { $0.route }),
            Route(method: .get, path: "contacts/name/{phoneNumber}", lookup: { $0.name }),
            Route(method: .get, path: "contacts/name", lookup: { $0.name }),
            Route(method: .get, path: "phonebook/yealink.xml", lookup: { $0.phonebook(.yealink) }),
            Route(method: .get, path: "phonebook/grandstream.xml", lookup: { $0.phonebook(.grandstream) }),
            // Grandstream firmware that appends /phonebook.xml to its configured path.
            Route(method: .get, path: "phonebook/grandstream/phonebook.xml", lookup: { $0.phonebook(.grandstream) }),
            Route(method: .get, path: "phonebook/cisco.xml", lookup: { $0.phonebook(.cisco) }),
            Route(method: .get, path: "integrations/3cx.xml", handler: { $0.threeCXTemplate }),
            Route(method: .get, path: "contacts/changes", handler: { $0.changes }),
            Route(method: .get, path: "contacts/snapshot", handler: { $0.snapshot }),
            Route(method: .get, path: "whoami", handler: { $0.whoami }),
            Route(method: .get, path: "labels", handler: { $0.labels }),
            Route(method: .put, path: "labels", scope: .admin, handler: { $0.setLabels }),
            Route(method: .get, path: "tokens", scope: .admin, handler: { $0.listTokens }),
            Route(method: .post, path: "tokens", scope: .admin, handler: { $0.createToken }),
            Route(method: .delete, path: "tokens/{id}", scope: .admin, handler: { $0.revokeToken }),
            Route(method: .get, path: "popup-link", scope: .admin, handler: { $0.popupLink }),
            Route(method: .post, path: "popup-link/rotate", scope: .admin, handler: { $0.rotatePopupLink }),
            Route(method: .get, path: "users", scope: .admin, handler: { $0.listUsers }),
            Route(method: .post, path: "users", scope: .admin, handler: { $0.addUser }),
            Route(method: .patch, path: "users/{login}", scope: .admin, handler: { $0.updateUser }),
            Route(method: .delete, path: "users/{login}", scope: .admin, handler: { $0.removeUser }),
            Route(method: .get, path: "contacts", handler: { $0.listContacts }),
            Route(method: .post, path: "contacts", handler: { $0.createContact }),
            Route(method: .post, path: "contacts/batch", handler: { $0.batch }),
            Route(method: .put, path: "contacts/external/{externalId}", handler: { $0.upsertExternal }),
            Route(method: .get, path: "contacts/{id}", handler: { $0.getContact }),
            Route(method: .put, path: "contacts/{id}", handler: { $0.replaceContact }),
            Route(method: .patch, path: "contacts/{id}", handler: { $0.patchContact }),
            Route(method: .delete, path: "contacts/{id}", handler: { $0.deleteContact }),
        ]

    /// The query parameters each route takes, by `METHOD /path`; any other is refused with 400.
    public static let queries: [String: [String]] = [
        "GET /popup": ["number", "token"],
        "GET /v3/contacts/validator/phone-number/{phoneNumber}": ["region"],
        "GET /v3/contacts/lookup": ["email", "number", "format"],
        "GET /v3/contacts/lookup/{phoneNumber}": ["format"],
        "GET /v3/contacts/route/{phoneNumber}": ["format"],
        "GET /v3/contacts/route": ["number", "format"],
        "GET /v3/contacts/name/{phoneNumber}": ["maxlen", "ascii", "fallback", "format"],
        "GET /v3/contacts/name": ["number", "maxlen", "ascii", "fallback", "format"],
        "GET /v3/contacts/changes": ["since", "wait", "limit"],
        "GET /v3/contacts": ["after", "limit"],
        "POST /v3/contacts/upload": ["dryRun"],
        "GET /v3/phonebook/yealink.xml": ["numfmt"],
        "GET /v3/phonebook/grandstream.xml": ["numfmt"],
        "GET /v3/phonebook/grandstream/phonebook.xml": ["numfmt"],
        "GET /v3/phonebook/cisco.xml": ["numfmt"],
    ]

    /// `METHOD /path` of the lookup routes, which mirrors serve too.
    static var lookupDescribed: [String] {
        all.filter { $0.lookupHandler != nil }.map { "\($0.method.rawValue) /v3/\($0.path)" }
    }

    /// `METHOD /path` of every route the server answers, authenticated or not.
    public static var described: [String] {
        ["GET /health", "GET /metrics", "GET /openapi.yaml", "GET /popup"]
            + all.map { "\($0.method.rawValue) /v3/\($0.path)" }
    }
}

/// The OpenAPI 3.1 document of the whole API (`Resources/openapi.yaml`), served at `/openapi.yaml`.
public enum OpenAPIDocument {
    public static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let data = try? Data(contentsOf: url)
        else { return Array("openapi: 3.1.0\n# the document was not installed with the binary\n".utf8) }
        return Array(data)
    }()
}

/// The route handlers: thin, each a call into the layers below.
struct Handlers: Sendable {
    let state: ServiceState

    var lookups: LookupHandlers { LookupHandlers(indexes: state.indexes, metrics: state.metrics, links: state.popupLinks) }

    func organization(_ context: CallerRequestContext) throws -> Organization {
        try context.requireOrganization()
    }
}

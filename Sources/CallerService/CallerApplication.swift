import ContactStore
import Contacts
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import LookupIndex
import NIOCore
import PhoneNumbers

/// The request context: Hummingbird's core storage plus the caller's organization once
/// `BasicAuthentication` has let the request in.
public struct CallerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var organization: Organization?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// Shared state of one server: the store, the indexes, authentication.
final class ServiceState: Sendable {
    let configuration: ServiceConfiguration
    let store: ContactStore
    let indexes: OrganizationIndexes
    let authenticator: Authenticator
    let notifier = VersionNotifier()
    let metrics = ServiceMetrics()
    let validator = PhoneNumberValidator()

    init(configuration: ServiceConfiguration, store: ContactStore) {
        self.configuration = configuration
        self.store = store
        self.indexes = OrganizationIndexes(store: store, metrics: metrics)
        self.authenticator = Authenticator(store: store, configuration: configuration)
    }
}

/// Lets a request in only with valid HTTP Basic credentials; answers 401 with
/// `WWW-Authenticate: Basic` otherwise.
struct BasicAuthentication: RouterMiddleware {
    typealias Context = CallerRequestContext
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch await authenticator.authenticate(authorization: request.headers[.authorization]) {
        case .allowed(let organization):
            var context = context
            context.organization = organization
            return try await next(request, context)
        case .denied:
            // The login only: never the password, the header or its base64.
            let login = Authenticator.credentials(request.headers[.authorization])?.0 ?? "-"
            context.logger.notice("authentication failed", metadata: ["login": "\(login)", "route": "\(context.endpointPath ?? "-")"])
            var response = HTTPAnswer.error(.unauthorized, "Missing or wrong credentials: send Authorization: Basic base64(login:password).")
            response.headers[.wwwAuthenticate] = "Basic realm=\"caller-lookup\", charset=\"UTF-8\""
            return response
        case .unavailable:
            var response = HTTPAnswer.error(
                .serviceUnavailable, "These credentials cannot be verified now: the contacts API is unreachable. Try again later.")
            response.headers[.retryAfter] = "5"
            return response
        case .throttled(let login, let retryAfter):
            context.logger.notice("login throttled", metadata: ["login": "\(login)", "route": "\(context.endpointPath ?? "-")"])
            return HTTPAnswer.throttled(login: login, retryAfter: retryAfter)
        }
    }
}

extension ContactStoreError {
    /// The one mapping of store errors to HTTP statuses (SPEC §6): 404 for what does not exist,
    /// 409 for a duplicate, 422 for a value the store's rules refuse, 500 for the database.
    var status: HTTPResponse.Status {
        switch code {
        case .notFound, .unknownOrganization: .notFound
        case .duplicateExternalId, .organizationExists, .loginTaken: .conflict
        case .invalidInput, .unknownRegion: .unprocessableContent
        case .database: .internalServerError
        }
    }
}

/// JSON answers built from bytes, without a generic encoder.
enum HTTPAnswer {
    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        json(status, Array(text.utf8))
    }

    /// `{"error":"…"}`.
    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("error", message)
        writer.endObject()
        return json(status, writer.bytes)
    }

    /// 429 for a login with too many recent failures.
    static func throttled(login: String, retryAfter: Int) -> Response {
        var response = error(
            .tooManyRequests, "Too many failed logins for '\(login)'. Try again in \(retryAfter) s; the password was not checked.")
        response.headers[.retryAfter] = String(retryAfter)
        return response
    }

    /// The one answer to an error thrown below a handler: input errors with their own status and
    /// message, store errors by `ContactStoreError.status`, anything else a 500 that names no
    /// internals (no SQL text) — the details go to the log.
    static func failure(_ error: any Error, logger: Logger) -> Response {
        switch error {
        case let error as InputError:
            return json(HTTPResponse.Status(code: error.status), error.json)
        case let error as ContactStoreError where error.code != .database:
            return self.error(error.status, error.message)
        default:
            logger.error("request failed", metadata: ["error": "\(error)"])
            return self.error(.internalServerError, "The request could not be completed and nothing was changed; the server's log says why.")
        }
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// One API node: its shared state, the HTTP application over it and the service that keeps its
/// indexes following the store. `caller-lookup serve` runs both in one `ServiceGroup`
/// (`[application, follower]`: shut down in reverse order, the follower first answers the pending
/// long polls); tests drive the application in-process, with or without the follower.
public struct CallerNode: Sendable {
    let state: ServiceState

    public init(configuration: ServiceConfiguration, store: ContactStore) {
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
/// use and refreshed by the writes' handlers); the tests of the routes drive it in-process.
public func buildApplication(
    configuration: ServiceConfiguration, store: ContactStore, logger: Logger? = nil
) -> some ApplicationProtocol {
    CallerNode(configuration: configuration, store: store).application(logger: logger)
}

private func buildApplication(state: ServiceState, logger: Logger?) -> some ApplicationProtocol {
    let configuration = state.configuration
    let router = Router(context: CallerRequestContext.self)
    router.get("/health") { _, _ in
        // A load balancer's readiness check: 503 until every index is built.
        guard let progress = state.indexes.loading else { return HTTPAnswer.json(.ok, #"{"status":"ok"}"#) }
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("status", "loading")
        writer.field("indexesBuilt", progress.built)
        writer.field("organizations", progress.total)
        writer.endObject()
        var response = HTTPAnswer.json(.serviceUnavailable, writer.bytes)
        response.headers[.retryAfter] = "1"
        return response
    }
    addMetricsRoute(to: router, state.metrics)
    router.get("/openapi.yaml") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
    }
    let popup = PopupHandler(state: state)
    router.get("/popup", use: popup.popup)
    let api = router.group("v3").add(middleware: BasicAuthentication(authenticator: state.authenticator))
    let handlers = Handlers(state: state)
    for route in APIRoutes.all {
        api.on(RouterPath(route.path), method: route.method, use: route.handler(handlers))
    }
    return makeApplication(router: router, configuration: configuration, name: "caller-lookup", logger: logger)
}

/// `GET /metrics` (no authentication): Prometheus text — the same on API nodes and mirrors.
func addMetricsRoute(to router: Router<CallerRequestContext>, _ metrics: ServiceMetrics) {
    router.get("/metrics") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
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
        let method: HTTPRequest.Method
        /// Below `/v3/`, with `{parameter}` segments as in the OpenAPI document.
        let path: String
        let handler: @Sendable (Handlers) -> @Sendable (Request, CallerRequestContext) async throws -> Response
    }

    static let all: [Route] = [
            Route(method: .post, path: "contacts/upload", handler: { $0.upload }),
            Route(method: .get, path: "contacts/validator/phone-number/{phoneNumber}", handler: { $0.validate }),
            Route(method: .get, path: "contacts/lookup/{phoneNumber}", handler: { $0.lookups.lookup }),
            Route(method: .get, path: "contacts/lookup", handler: { $0.lookups.lookupByEmail }),
            Route(method: .get, path: "contacts/route/{phoneNumber}", handler: { $0.lookups.route }),
            Route(method: .get, path: "contacts/changes", handler: { $0.changes }),
            Route(method: .get, path: "contacts/snapshot", handler: { $0.snapshot }),
            Route(method: .get, path: "whoami", handler: { $0.whoami }),
            Route(method: .get, path: "labels", handler: { $0.labels }),
            Route(method: .put, path: "labels", handler: { $0.setLabels }),
            Route(method: .get, path: "contacts", handler: { $0.listContacts }),
            Route(method: .post, path: "contacts", handler: { $0.createContact }),
            Route(method: .post, path: "contacts/batch", handler: { $0.batch }),
            Route(method: .put, path: "contacts/external/{externalId}", handler: { $0.upsertExternal }),
            Route(method: .get, path: "contacts/{id}", handler: { $0.getContact }),
            Route(method: .put, path: "contacts/{id}", handler: { $0.replaceContact }),
            Route(method: .patch, path: "contacts/{id}", handler: { $0.patchContact }),
            Route(method: .delete, path: "contacts/{id}", handler: { $0.deleteContact }),
        ]

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

    var lookups: LookupHandlers { LookupHandlers(indexes: state.indexes, metrics: state.metrics) }

    func organization(_ context: CallerRequestContext) throws -> Organization {
        try context.requireOrganization()
    }

    /// Runs a store call on a dispatch thread: SQLite work (and the store's lock, which an import
    /// holds for its whole transaction) never holds a thread of Swift's cooperative pool.
    func store<T: Sendable>(_ work: @escaping @Sendable (ContactStore) throws -> T) async throws -> T {
        let store = state.store
        return try await offCooperativePool { try work(store) }
    }

    // MARK: Upload (SPEC §4)

    @Sendable func upload(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let limit = state.configuration.uploadLimit
        let metrics = state.metrics
        func rejected(_ status: HTTPResponse.Status, _ message: String) -> Response {
            metrics.upload(status == .contentTooLarge ? "too_large" : status == .unsupportedMediaType ? "not_multipart" : "rejected")
            return HTTPAnswer.json(status, ImportRejection(message).json)
        }
        let contentType = request.headers[.contentType] ?? ""
        guard contentType.lowercased().hasPrefix("multipart/form-data") else {
            return rejected(.unsupportedMediaType,
                            "The upload must be multipart/form-data with the CSV in the field 'file' (curl --form file=@import.csv).")
        }
        guard let boundary = Multipart.boundary(contentType: contentType) else {
            return rejected(.badRequest, "The multipart/form-data Content-Type has no boundary.")
        }
        // The form around the file adds a few hundred bytes; anything beyond the limit plus 64 KiB
        // is refused while streaming, before it is buffered.
        let slack = 64 * 1024
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit + slack {
            return rejected(.contentTooLarge, "The file is larger than \(limit / 1_048_576) MB; split it or remove unused columns.")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit + slack)
        } catch is NIOTooManyBytesError {
            return rejected(.contentTooLarge, "The file is larger than \(limit / 1_048_576) MB; split it or remove unused columns.")
        }
        let file: [UInt8]
        do {
            file = try Multipart.field("file", in: Array(buffer: body), boundary: boundary)
        } catch {
            return rejected(.badRequest, error.message)
        }
        guard file.count <= limit else {
            return rejected(.contentTooLarge, "The file is larger than \(limit / 1_048_576) MB; split it or remove unused columns.")
        }
        let state = self.state
        // Parsing and validating a large file takes seconds of CPU: off the cooperative pool.
        let outcome: Result<ImportReport, any Error> = await offCooperativePool {
            let outcome = Result {
                let report = try state.store.importContacts(
                    csv: file, organizationID: organization.id, validator: state.validator)
                try state.indexes.refresh(organization)
                return report
            }
            ProcessMemory.releaseFreed()
            return outcome
        }
        switch outcome {
        case .success(let report):
            context.logger.info(
                "upload", metadata: ["organization": "\(organization.name)", "imported": "\(report.imported)",
                                     "rejected": "\(report.rejectedRows.count)", "version": "\(report.version)"])
            state.notifier.publish(organizationID: organization.id, version: report.version)
            metrics.upload("uploaded", imported: report.imported, rejectedRows: report.rejectedRows.count)
            return HTTPAnswer.json(.ok, report.json)
        case .failure(let rejection as ImportRejection):
            metrics.upload("rejected", rejectedRows: rejection.rejectedRows.count)
            return HTTPAnswer.json(.badRequest, rejection.json)
        case .failure(let error):
            // The details (SQLite's message, the statement) go to the log, not to the client.
            context.logger.error("upload failed", metadata: ["organization": "\(organization.name)", "error": "\(error)"])
            return rejected(.internalServerError, "The import failed and nothing was changed; the server's log says why.")
        }
    }

    // MARK: Validator (SPEC §5)

    @Sendable func validate(_ request: Request, context: CallerRequestContext) async throws -> Response {
        _ = try organization(context)
        let number = try context.pathParameter("phoneNumber")
        guard number.utf8.count <= 64 else { return HTTPAnswer.error(.badRequest, "A phone number has at most 64 characters.") }
        let region = request.uri.queryParameters["region"].map(String.init)
        let verdict = region == nil ? state.validator.validateInternational(number) : state.validator.validate(number, defaultRegion: region)
        return HTTPAnswer.json(.ok, PhoneNumberReport(verdict: verdict, validator: state.validator).json)
    }
}

/// Runs blocking work (a slow hash, SQLite, a whole import) on a dispatch thread, so it never
/// holds a thread of Swift's cooperative pool.
func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}

/// `offCooperativePool` for work that throws.
func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await offCooperativePool { Result { try work() } }.get()
}

extension Duration {
    /// The duration in whole nanoseconds.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

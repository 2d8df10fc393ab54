import Contacts
import Dispatch
import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
import LookupIndex
import NIOCore
import PhoneNumbers
public import StoreContract

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

    /// The read-only LDAP directory on `ldap.port` and LDAPS on `ldap.tlsport`, when configured;
    /// throws when the TLS certificate or key cannot be read.
    public func ldapServer(logger: Logger = Logger(label: "caller-lookup.ldap")) throws -> LDAPServer? {
        let (store, anonymous) = (state.store, state.configuration.ldapAnonymousOrganization)
        return try LDAPServer(
            directory: LDAPDirectory(indexes: state.indexes, authenticator: state.authenticator) {
                guard let anonymous else { return nil }
                return try? await store.committedOrganizations().first { $0.name == anonymous }
            },
            configuration: state.configuration, logger: logger)
    }

    /// The scheduler of this node's CRM sync sources (`serve` runs it unless `sync.schedule` is
    /// off; mirrors never do).
    public func syncScheduler(logger: Logger = Logger(label: "caller-lookup.sync")) -> SyncScheduler {
        SyncScheduler(runner: state.sync, store: state.store, tick: state.configuration.sync.tick, logger: logger)
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
    if configuration.trustsForwardedFor { router.add(middleware: ForwardedClient()) }
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
        writer.field("numberPlan", NumberPlanFile.current.version)
        writer.field("numberPlanFingerprint", NumberPlanFile.current.fingerprint)
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

import AsyncHTTPClient
import Contacts
import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
public import LookupIndex
import NIOCore
public import ServiceLifecycle
import StoreContract
import Synchronization
import ThreadSupport

/// How a mirror reaches its API and keeps its state.
public struct MirrorConfiguration: Sendable {
    /// The API node, e.g. `http://api.example:8080`.
    public var apiURL: String
    /// What the mirror presents to the API.
    public var credentials: Credentials
    /// Where the mirror keeps its state between runs (`--snapshot`), if anywhere.
    public var snapshotPath: String?
    /// How long one change-feed request waits for a change (the API caps it, 30 s by default).
    public var longPollSeconds = 25
    /// The shortest time between two snapshot-file writes.
    public var snapshotIntervalSeconds = 2.0
    /// The longest wait between two attempts while the API is unreachable.
    public var maximumBackoffSeconds = 30.0

    /// A user's login, or an access token of the organization (a `lookup` token is enough).
    public enum Credentials: Sendable {
        case login(String, password: String)
        case token(String)

        var authorization: String {
            switch self {
            case .login(let login, let password): CallerService.Credentials.basic(login: login, password: password).authorization
            case .token(let token): CallerService.Credentials.token(token).authorization
            }
        }
    }

    public init(apiURL: String, credentials: Credentials, snapshotPath: String? = nil) {
        self.apiURL = apiURL
        self.credentials = credentials
        self.snapshotPath = snapshotPath
    }

    public init(apiURL: String, login: String, password: String, snapshotPath: String? = nil) {
        self.init(apiURL: apiURL, credentials: .login(login, password: password), snapshotPath: snapshotPath)
    }
}

/// A mirror node: one organization's lookup index, fed over HTTP by the API's change feed through
/// the same `IndexFollower` an API node uses, and served by the lookup routes of `LookupHandlers`.
///
/// Its follower (`follower()`, a `Service` beside the HTTP application in the `ServiceGroup`)
/// loads the organization (from the snapshot file if there is one, else from the API's snapshot
/// route), then long-polls the change feed. The blocking HTTP calls and index builds run on a
/// thread of its own, never on the cooperative pool. When the API is unreachable or failing it
/// keeps serving the last index and retries with capped exponential backoff and jitter; a `resync`
/// from the API rebuilds the index from a full load and swaps it atomically. On shutdown it aborts
/// the pending long poll and writes the snapshot file once more.
public final class MirrorNode: IndexProvider, Sendable {
    public let configuration: MirrorConfiguration
    let metrics = ServiceMetrics()
    let source: MirrorSource
    private let thread = WorkerThreads(name: "mirror follower", count: 1)
    private typealias Followed = (organization: Organization, follower: IndexFollower, lookup: CallerLookup)

    private struct State {
        var followed: Followed?
        /// The follower's task while `start` runs it outside a `ServiceGroup`.
        var running: Task<Void, Never>?
        /// Passwords and tokens the API accepted (`KeptCredential`): let in while the API is down,
        /// across restarts. A caller may come before the mirror knows which organization it
        /// follows: each records the organization it was verified for, and only the followed
        /// one's are trusted and written.
        var credentials: [KeptCredential.Key: KeptCredential] = [:]
        /// The API's credentials version the kept credentials were verified at.
        var credentialsVersion: Int64?
        var credentialsChanged = false
        /// Login → a per-process keyed digest of the password last hashed into `credentials`, so
        /// an unchanged password is not hashed again at every re-verification.
        var hashedPasswords: [String: Int] = [:]

        /// Keeps what the API said of a credential (a new `hash` for a password hashed anew),
        /// trusted again if it was doubted.
        mutating func keep(_ key: KeptCredential.Key, hash: String?, scope: AccessScope, organizationID: Int64) {
            var entry = credentials[key] ?? KeptCredential(hash: "", scope: scope)
            if let hash { entry.hash = hash }
            entry.scope = scope
            entry.organizationID = organizationID
            entry.doubted = false
            guard credentials[key] != entry else { return }
            credentials[key] = entry
            credentialsChanged = true
        }

        mutating func forget(_ key: KeptCredential.Key) {
            guard credentials.removeValue(forKey: key) != nil else { return }
            if key.kind == .password { hashedPasswords[key.name] = nil }
            credentialsChanged = true
        }
        var writtenVersion: Int64 = -1
        var lastWrite = Date.distantPast
    }

    private let state = Mutex(State())
    /// The mirror's one authenticator (its HTTP routes and its LDAP directory share the remembered
    /// credentials and the throttle), made on first use.
    private let sharedAuthenticator = Mutex<Authenticator?>(nil)

    func authenticator(configuration: ServiceConfiguration) -> Authenticator {
        sharedAuthenticator.withLock { shared in
            if let shared { return shared }
            let made = Authenticator(configuration: configuration) { [weak self] credentials in
                await self?.verify(credentials) ?? .unavailable
            }
            shared = made
            return made
        }
    }
    private let started = Date()
    private let logger: Logger

    public init(configuration: MirrorConfiguration, logger: Logger = Logger(label: "caller-lookup.mirror")) {
        self.configuration = configuration
        self.logger = logger
        // A refused connection fails the request at once: the follower has its own backoff, and a
        // caller's check must fall back to the kept hashes at once while the API is down (the
        // client's own retries would hold every lookup of a restarted mirror for the request's
        // whole timeout).
        var client = HTTPClient.Configuration()
        client.connectionPool.retryConnectionEstablishment = false
        client.timeout.connect = .seconds(2)
        source = MirrorSource(
            client: HTTPClient(eventLoopGroupProvider: .singleton, configuration: client), base: configuration.apiURL,
            authorization: configuration.credentials.authorization, wait: configuration.longPollSeconds)
    }

    /// The service that loads and follows the organization; run it after the HTTP application in
    /// a `ServiceGroup` (shut down first, it aborts its long poll and writes the snapshot file).
    /// Run it once: stopping shuts the mirror's HTTP client down.
    public func follower() -> MirrorFollowerService { MirrorFollowerService(node: self) }

    /// Loads the snapshot file (so lookups are answered at once) and runs the follower outside a
    /// `ServiceGroup` (tests), until `stop`.
    public func start() {
        loadSnapshotFile()
        state.withLock { $0.running = Task { await self.follow(snapshotLoaded: true) } }
    }

    /// Stops what `start` started and waits for it (the snapshot file is written once more).
    public func stop() async {
        guard let task = state.withLock({ $0.running }) else { return }
        task.cancel()
        await task.value
    }

    /// Loads the snapshot file, if there is one, so lookups are answered at once.
    fileprivate func loadSnapshotFile() {
        guard let path = configuration.snapshotPath, FileManager.default.fileExists(atPath: path) else { return }
        do {
            let contents = try MirrorSnapshotFile.read(from: path)
            let snapshot = contents.snapshot
            try install(contents.organization, IndexFollower(source: source, startingFrom: snapshot))
            state.withLock {
                $0.writtenVersion = snapshot.version
                $0.credentials = contents.credentials
                $0.credentialsVersion = contents.credentialsVersion
            }
            logger.info("loaded \(snapshot.count) contacts at version \(snapshot.version) and \(contents.credentials.count) credentials from \(path)")
        } catch {
            logger.error("ignoring the snapshot file \(path): \(error)")
        }
    }

    /// Aborts the request in flight (a long poll) and every later one.
    fileprivate func abort() {
        source.client.shutdown { _ in }
    }

    // MARK: IndexProvider

    func entry(for organization: Organization) throws -> IndexEntry {
        guard let followed = state.withLock({ $0.followed }) else {
            throw HTTPError(.serviceUnavailable, message: "The mirror has not loaded its contacts yet; the API is not reachable.")
        }
        guard followed.organization.id == organization.id else {
            throw HTTPError(.forbidden, message: "This mirror serves organization \(followed.organization.name) only.")
        }
        return IndexEntry(index: followed.follower.index, lookup: followed.lookup)
    }

    /// The API's credentials version the kept credentials were verified at.
    var credentialsVersion: Int64? { state.withLock { $0.credentialsVersion } }

    /// The followed organization, once something is loaded.
    var followedOrganization: Organization? { state.withLock { $0.followed?.organization } }

    /// The followed index, once something is loaded.
    public var index: OrganizationIndex? { state.withLock { $0.followed?.follower.index } }

    // MARK: Following

    private func install(_ organization: Organization, _ follower: IndexFollower) throws {
        guard let lookup = CallerLookup(region: organization.defaultRegion) else {
            throw MirrorError("The organization's region \(organization.defaultRegion) is unknown to libphonenumber.")
        }
        state.withLock { $0.followed = (organization, follower, lookup) }
        metrics.index(organization: organization.name, snapshot: follower.index.snapshot)
    }

    /// Follows the API until cancelled: one step (load, or catch up through a long poll) at a time
    /// on the mirror's thread, with capped exponential backoff and jitter after a failure.
    fileprivate func follow(snapshotLoaded: Bool = false) async {
        if !snapshotLoaded { await thread.run { self.loadSnapshotFile() } }
        var failures = 0
        await withTaskCancellationHandler {
            while !Task.isCancelled {
                do {
                    try await thread.run { try self.step() }
                    failures = 0
                    await thread.run { self.writeSnapshotIfNeeded(force: false) }
                } catch {
                    if Task.isCancelled { break }
                    failures += 1
                    // 0.25 s, 0.5 s, 1 s … up to the cap.
                    let ceiling = min(configuration.maximumBackoffSeconds, 0.25 * pow(2, Double(min(failures, 16) - 1)))
                    let delay = Double.random(in: (ceiling / 2)...ceiling)
                    logger.warning("API unreachable or failing (attempt \(failures)), retrying in \(String(format: "%.1f", delay)) s: \(Redaction.redacted("\(error)"))")
                    try? await Task.sleep(for: .seconds(delay))
                }
            }
        } onCancel: {
            abort()
        }
        await thread.run { self.writeSnapshotIfNeeded(force: true) }
    }

    /// Loads the organization when nothing is loaded yet, else catches up (blocking: a long poll).
    private func step() throws {
        if let follower = state.withLock({ $0.followed?.follower }) {
            try follower.catchUp()
            if let organization = state.withLock({ $0.followed?.organization }) {
                metrics.index(organization: organization.name, snapshot: follower.index.snapshot)
            }
            if let version = source.credentialsVersion { try credentialsMoved(to: version) }
        } else {
            let organization = try source.organization()
            try install(organization, try IndexFollower(source: source, suffixDigits: organization.suffixDigits))
            logger.info("loaded organization \(organization.name) from \(Redaction.redacted(configuration.apiURL))")
        }
    }

    /// The API's credentials version is `version` (its change feed said so). When it moved since the
    /// kept credentials were verified — a token revoked, a password or a role changed, the
    /// organization's settings changed; here, or while the mirror was stopped — every kept and
    /// remembered credential is doubted: verified again at its next request, and not trusted while
    /// the API is down until then (a token revoked before an outage is refused through it). The
    /// organization's settings are read again: a new region or suffix length rebuilds the index.
    private func credentialsMoved(to version: Int64) throws {
        // The first version a mirror sees (it kept nothing across a restart, or its file is of an
        // earlier format; asked without waiting right after the load) doubts only what came from
        // such a file — what this process verified in the moment since is current — and reads the
        // organization's settings again, so a change between the load and that answer is caught.
        let (moved, first) = state.withLock { state in
            guard state.credentialsVersion != version else { return (false, false) }
            let first = state.credentialsVersion == nil
            for (key, credential) in state.credentials where !first || credential.organizationID == nil {
                state.credentials[key]?.doubted = true
            }
            state.credentialsChanged = true
            return (true, first)
        }
        guard moved else { return }
        if !first { sharedAuthenticator.withLock { $0 }?.doubtAll() }
        let fresh = try source.organization()
        if let followed = state.withLock({ $0.followed }), fresh.id == followed.organization.id {
            if fresh.defaultRegion != followed.organization.defaultRegion || fresh.suffixDigits != followed.organization.suffixDigits {
                // Numbers are read by the region and indexed by their last digits: a new index.
                try install(fresh, try IndexFollower(source: source, suffixDigits: fresh.suffixDigits))
                logger.notice(
                    "organization \(fresh.name) changed: region \(followed.organization.defaultRegion) → \(fresh.defaultRegion), suffix digits \(followed.organization.suffixDigits) → \(fresh.suffixDigits); index rebuilt")
            } else {
                // A new name; the labels and version stay the feed's.
                let renamed = Organization(
                    id: fresh.id, name: fresh.name, defaultRegion: fresh.defaultRegion, suffixDigits: fresh.suffixDigits,
                    version: followed.organization.version, labels: followed.organization.labels)
                state.withLock { $0.followed?.organization = renamed }
            }
            sharedAuthenticator.withLock { $0 }?.update(fresh)
        }
        state.withLock { $0.credentialsVersion = version }
    }

    private func writeSnapshotIfNeeded(force: Bool) {
        guard let path = configuration.snapshotPath,
            let (organization, snapshot) = state.withLock({ $0.followed.map { ($0.organization, $0.follower.index.snapshot) } }),
            state.withLock({
                ($0.credentialsChanged || snapshot.version != $0.writtenVersion)
                    && (force || -$0.lastWrite.timeIntervalSinceNow >= configuration.snapshotIntervalSeconds)
            })
        else { return }
        do {
            let (credentials, credentialsVersion) = state.withLock { state in
                state.credentialsChanged = false
                return (state.credentials.filter { ($0.value.organizationID ?? organization.id) == organization.id }, state.credentialsVersion)
            }
            try MirrorSnapshotFile.write(
                .init(organization: organization, snapshot: snapshot, credentials: credentials, credentialsVersion: credentialsVersion), to: path)
            state.withLock {
                $0.writtenVersion = snapshot.version
                $0.lastWrite = Date()
            }
        } catch {
            logger.error("cannot write the snapshot file: \(error)")
        }
    }

    // MARK: Health

    /// `{"status","role","organization","version","apiVersion","behindVersions","behindSeconds","contacts","lastError"}`:
    /// `ok` while the API answers, `degraded` while it does not (lookups still answered), `loading`
    /// before anything is loaded (503).
    func health() -> (HTTPResponse.Status, [UInt8]) {
        let status = source.status
        let followed = state.withLock { $0.followed }
        let version = followed?.follower.index.snapshot.version ?? 0
        let behind = max(0, status.apiVersion - version)
        let reachable = status.lastError == nil && status.lastSuccess != nil
        let since = status.lastSuccess ?? started
        let behindSeconds = reachable && behind == 0 ? 0 : max(0, -since.timeIntervalSinceNow)
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("status", followed == nil ? "loading" : reachable ? "ok" : "degraded")
        writer.field("role", "mirror")
        writer.key("organization")
        if let name = followed?.organization.name { writer.value(name) } else { writer.null() }
        writer.field("version", Int(version))
        writer.field("apiVersion", Int(status.apiVersion))
        writer.field("behindVersions", Int(behind))
        writer.field("behindSeconds", Int(behindSeconds.rounded()))
        writer.field("contacts", followed?.follower.index.snapshot.count ?? 0)
        writer.key("lastError")
        if let error = status.lastError { writer.value(error) } else { writer.null() }
        writer.endObject()
        return (followed == nil ? .serviceUnavailable : .ok, writer.bytes)
    }

    /// Verifies a caller's credentials with the API (for the mirror's `Authenticator`). While the
    /// API cannot be reached, a password or token the API accepted before (for the followed
    /// organization, and not doubted since) is checked against what the mirror kept of it — its
    /// own yescrypt hash of a password, a token's SHA-256 — which the snapshot file keeps: the
    /// right one is let in, a wrong password is refused (401) and counted like any failed login.
    func verify(_ presented: Credentials) async -> CredentialCheck {
        let check = await source.verify(presented)
        let followed = state.withLock { $0.followed?.organization }
        let key: KeptCredential.Key
        let password: String?
        switch presented {
        case .basic(let login, let given): (key, password) = (KeptCredential.Key(kind: .password, name: login), given)
        case .token(let token): (key, password) = (KeptCredential.Key(kind: .token, name: AccessTokenRules.tokenHash(token)), nil)
        }
        switch check {
        case .valid(let organization, let scope, _):
            // Also before the mirror has loaded (a caller in its first moments): the organization
            // is recorded and only the followed one's credentials are trusted and written. Kept
            // without a snapshot file too: they verify callers while the API is unreachable.
            guard followed == nil || organization.id == followed?.id else { return check }
            guard let password else {
                state.withLock { $0.keep(key, hash: nil, scope: scope, organizationID: organization.id) }
                return check
            }
            let digest = password.hashValue
            if state.withLock({ $0.hashedPasswords[key.name] == digest && $0.credentials[key] != nil }) {
                state.withLock { $0.keep(key, hash: nil, scope: scope, organizationID: organization.id) }
            } else if let hash = await offCooperativePool({ PasswordHash.make(password) }) {
                state.withLock {
                    $0.keep(key, hash: hash, scope: scope, organizationID: organization.id)
                    $0.hashedPasswords[key.name] = digest
                }
            }
            return check
        case .invalid:
            // The API refused it. A token: revoked, forgotten. A password: when it is the very
            // one the mirror keeps (the user was removed, or the password changed), the mirror
            // forgets it at once; a wrong try of someone else never deletes the stored hash (else
            // one wrong try would lock the caller out while the API is down).
            guard let stored = state.withLock({ $0.credentials[key] }) else { return check }
            guard let password else {
                state.withLock { $0.forget(key) }
                return check
            }
            var same = state.withLock { $0.hashedPasswords[key.name] } == password.hashValue
            if !same { same = await offCooperativePool { PasswordHash.verify(password, against: stored.hash) } }
            if same { state.withLock { if $0.credentials[key]?.hash == stored.hash { $0.forget(key) } } }
            return check
        case .unavailable:
            guard let followed,
                let kept = state.withLock({ $0.credentials[key] }), !kept.doubted, (kept.organizationID ?? followed.id) == followed.id
            else { return .unavailable }
            guard let password else { return .valid(followed, kept.scope, nil) }
            // A known login: the answer is the stored hash's, and a wrong password is a failed
            // login (401, counted by the same throttle as on the API).
            let matches = await offCooperativePool { PasswordHash.verify(password, against: kept.hash) }
            return matches ? .valid(followed, kept.scope, nil) : .invalid
        }
    }

}

/// A mirror's follower as a service: follows the API until the group shuts down, then aborts its
/// long poll and writes the snapshot file.
public struct MirrorFollowerService: Service {
    let node: MirrorNode

    public func run() async throws {
        await cancelWhenGracefulShutdown { await node.follow() }
    }
}

/// A mirror's LDAP directory (`ldap.port`, `ldap.tlsport`), answered from the mirror's index with
/// the same credentials and throttle as its HTTP lookups; `nil` when not configured.
public func buildMirrorDirectory(node: MirrorNode, configuration: ServiceConfiguration) throws -> LDAPServer? {
    let anonymous = configuration.ldapAnonymousOrganization
    return try LDAPServer(
        directory: LDAPDirectory(indexes: node, authenticator: node.authenticator(configuration: configuration)) {
            guard let anonymous, let followed = node.followedOrganization, followed.name == anonymous else { return nil }
            return followed
        },
        configuration: configuration, logger: Logger(label: "caller-lookup.mirror.ldap"))
}

/// Builds a mirror's HTTP application: `/health`, `/metrics` and the lookup routes, answered from
/// the mirror's index with the same JSON as an API node.
public func buildMirrorApplication(node: MirrorNode, configuration: ServiceConfiguration) -> some ApplicationProtocol {
    ProcessMemory.configured
    let router = Router(context: CallerRequestContext.self)
    if configuration.trustsForwardedFor { router.add(middleware: ForwardedClient()) }
    router.add(middleware: ErrorAnswers(described: ["GET /health", "GET /metrics"] + APIRoutes.lookupDescribed, queries: APIRoutes.queries))
    router.get("/health") { _, _ in
        let (status, bytes) = node.health()
        return HTTPAnswer.json(status, bytes)
    }
    addMetricsRoute(to: router, node.metrics, token: configuration.metricsToken)
    let authenticator = node.authenticator(configuration: configuration)
    // The popup is the API's, and its links are signed with a key the mirror does not hold: a
    // mirror's answers carry none.
    let lookups = LookupHandlers(indexes: node, metrics: node.metrics, links: nil)
    // The lookup routes, the same as an API node's.
    let routes = APIRoutes.all.compactMap { route in route.lookupHandler.map { (route, $0(lookups)) } }
    addAPIRoutes(routes, to: router, authenticator: authenticator)
    return makeApplication(
        router: router, configuration: configuration, name: "caller-lookup-mirror", logger: Logger(label: "caller-lookup.mirror"))
}

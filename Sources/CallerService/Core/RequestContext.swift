import Contacts
import Dispatch
import Foundation
import HTTPTypes
public import Hummingbird
public import HummingbirdCore
import Logging
import LookupIndex
import NIOCore
import PhoneNumbers
public import StoreContract
import Synchronization

/// The request context: Hummingbird's core storage plus the caller's organization once
/// `Authentication` has let the request in, and what its credentials may do.
public struct CallerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var organization: Organization?
    /// The scope of the user's role, or the token's scope for an access token.
    public var scope: AccessScope?
    /// Who the credentials are (the user, the token), where this node knows it: popup links are
    /// bound to it.
    var holder: LinkHolder?
    /// The peer's IP address (`-` when unknown): failed logins are counted per address.
    /// The peer's address, or with `http.forwardedfor` the address the proxy in front says
    /// (`ForwardedClient`).
    public var clientAddress: String
    /// The request's query parameters, values percent-decoded, parsed once by `ErrorAnswers` (each
    /// `request.uri.queryParameters` parses the query again). Read them through `Query`.
    public var queryParameters = FlatDictionary<Substring, Substring>()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "-"
    }
}

/// Shared state of one server: the store, the indexes, authentication.
final class ServiceState: Sendable {
    let configuration: ServiceConfiguration
    let store: any RecordStore
    let indexes: OrganizationIndexes
    let authenticator: Authenticator
    let notifier = VersionNotifier()
    let metrics = ServiceMetrics()
    let validator = PhoneNumberValidator()
    let popupLinks: PopupLinks
    /// What the follower service last learned of the store: `nil` while it could be read, else the
    /// error. `/health` reports it; lookups keep answering from memory either way.
    let storeProblem = StoreProblem()
    /// CRM sync runs: by hand from the API and admin pages, on a schedule (`SyncScheduler`).
    let sync: SyncRunner

    init(configuration: ServiceConfiguration, store: any RecordStore) {
        self.configuration = configuration
        self.store = store
        self.popupLinks = PopupLinks(store: store, configuration: configuration)
        let authenticator = Authenticator(store: store, configuration: configuration)
        self.authenticator = authenticator
        let indexes = OrganizationIndexes(
            store: store, directory: configuration.indexDirectory.flatMap { $0 == "none" ? nil : $0 }, metrics: metrics,
            notifier: notifier) { [notifier] organizations in
            for caughtUp in organizations {
                // Labels and settings changed elsewhere (`org labels` from the CLI) reach the
                // credentials remembered with their organization.
                if caughtUp.moved { authenticator.update(caughtUp.organization) }
                notifier.publish(organizationID: caughtUp.organization.id, version: caughtUp.version)
            }
        }
        self.indexes = indexes
        let metrics = self.metrics
        sync = SyncRunner(
            store: store, validator: validator, settings: configuration.sync, logger: Logger(label: "caller-lookup.sync"),
            observer: SyncRunner.Observer(
                imported: { organizationID, version in await indexes.awaitVersion(version, of: organizationID) },
                finished: { source, run in metrics.syncRun(source: source, run: run) }))
    }

    /// Credentials stopped being valid (a token revoked, a popup link rotated — here, or by
    /// another process on the store): every remembered one is checked again, and the change
    /// feed's long polls answer at once so mirrors learn of it (`credentialsVersion`).
    func credentialsChanged() {
        authenticator.doubtAll()
        popupLinks.forgetAll()
        notifier.wakeAll()
    }
}

/// The store's last read failure, as the follower service saw it (`nil`: it could be read).
final class StoreProblem: Sendable {
    private let problem = Mutex<String?>(nil)

    var current: String? { problem.withLock { $0 } }

    /// Records the outcome of a read; whether the store was reachable before it.
    @discardableResult
    func record(_ error: (any Error)?) -> Bool {
        // Shown by `/health` to anyone: never a password of a URL an error may quote.
        let text = error.map { Redaction.redacted("\($0)") }
        return problem.withLock { problem in
            defer { problem = text }
            return problem == nil
        }
    }
}

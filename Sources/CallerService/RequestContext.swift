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
    /// The peer's IP address (`-` when unknown): failed logins are counted per address.
    public let clientAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "-"
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
        let authenticator = Authenticator(store: store, configuration: configuration)
        self.authenticator = authenticator
        self.indexes = OrganizationIndexes(store: store, metrics: metrics, notifier: notifier) { [notifier] organizations in
            for caughtUp in organizations {
                // Labels and settings changed elsewhere (`org labels` from the CLI) reach the
                // credentials remembered with their organization.
                if caughtUp.moved { authenticator.update(caughtUp.organization) }
                notifier.publish(organizationID: caughtUp.organization.id, version: caughtUp.version)
            }
        }
    }
}

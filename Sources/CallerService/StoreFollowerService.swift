import ContactStore
import Logging
import ServiceLifecycle

/// Keeps every organization's index at the store's committed version, whoever wrote: this
/// process's handlers, a CLI import into the same data directory, another node on the same store.
///
/// It first builds every index (`OrganizationIndexes.warmUp`; `/health` answers 503 `loading`
/// meanwhile), then checks the store's commit counter (`PRAGMA data_version`, one page-cache read on
/// the store's reader connection) every `interval` and, when anything committed, catches every
/// organization up from its change log and wakes the change feed's long polls. All store work runs
/// off Swift's cooperative pool.
///
/// On graceful shutdown it answers the pending long polls at once (`VersionNotifier.shutDown`), so
/// a node with mirrors attached exits in moments; run it after the HTTP application in the
/// `ServiceGroup`, which shuts services down in reverse order.
public struct StoreFollowerService: Service {
    let state: ServiceState
    let interval: Duration
    let logger: Logger

    public func run() async throws {
        let state = self.state
        let started = ContinuousClock.now
        let failures = try await offCooperativePool {
            let failures = try state.indexes.warmUp()
            // The full loads' rows are garbage now; hand their pages back (see `ProcessMemory`).
            ProcessMemory.releaseFreed()
            return failures
        }
        for (organization, error) in failures {
            logger.error("cannot build the index; it is built on first use", metadata: ["organization": "\(organization.name)", "error": "\(error)"])
        }
        logger.info("indexes built", metadata: ["seconds": "\((ContinuousClock.now - started).seconds)"])
        try await withGracefulShutdownHandler {
            do {
                try await cancelWhenGracefulShutdown { try await follow() }
            } catch is CancellationError {
                // Shutting down.
            }
        } onGracefulShutdown: {
            state.notifier.shutDown()
        }
    }

    private func follow() async throws {
        let state = self.state
        var seen: Int64?
        while true {
            do {
                let counter = try await offCooperativePool { try state.store.commitCounter() }
                if counter != seen {
                    seen = counter
                    let versions = try await offCooperativePool { try state.indexes.catchUpAll() }
                    for (organization, version) in versions {
                        // Labels and settings changed elsewhere (`org labels` from the CLI) reach
                        // the credentials remembered with their organization.
                        state.authenticator.update(organization)
                        state.notifier.publish(organizationID: organization.id, version: version)
                    }
                }
            } catch {
                logger.error("following the store failed; retrying", metadata: ["error": "\(error)"])
                seen = nil
            }
            try await Task.sleep(for: interval)
        }
    }
}

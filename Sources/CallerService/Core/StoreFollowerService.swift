import Logging
public import ServiceLifecycle
import StoreContract

/// Keeps every organization's index at the store's committed version, whoever wrote: this
/// process's handlers, a CLI import into the same data directory, another node on the same store.
///
/// It first builds every index (`OrganizationIndexes.warmUp`; `/health` answers 503 `loading`
/// meanwhile), then checks the store's commit counter (`PRAGMA data_version`, one page-cache read)
/// every `interval` and, when anything committed, has every organization caught up from its change
/// log (`OrganizationIndexes.catchUp`, which wakes the change feed's long polls) and, when the
/// store's credentials version moved, has the node forget its remembered credentials. Store and index
/// work runs on their own threads, never on Swift's cooperative pool.
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
        let failures = try await state.indexes.warmUp()
        for (organization, error) in failures {
            logger.error("cannot build the index; it is built on first use", metadata: ["organization": "\(organization.name)", "error": "\(error)"])
        }
        logger.info("indexes built", metadata: ["seconds": "\((ContinuousClock.now - started).seconds)"])
        try await withGracefulShutdownHandler {
            do {
                try await cancelWhenGracefulShutdown {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await follow() }
                        group.addTask { try await listen() }
                        try await group.next()
                    }
                }
            } catch is CancellationError {
                // Shutting down.
            }
        } onGracefulShutdown: {
            state.notifier.shutDown()
        }
    }

    /// Catches up at once when the store announces a commit (another node's, on PostgreSQL),
    /// instead of at the next poll; listens again a second after the announcements stop.
    private func listen() async throws {
        let state = self.state
        while true {
            do {
                try await state.store.watchCommits { state.indexes.requestCatchUp() }
                // The engine announces nothing: polling alone follows it.
                try await Task.sleep(for: .seconds(365 * 86_400))
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.debug("commit announcements stopped; listening again", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    private func follow() async throws {
        let state = self.state
        var seen: Int64?
        var credentials = try? await state.store.credentialsVersion()
        while true {
            do {
                let counter = try await state.store.commitCounter()
                state.storeProblem.record(nil)
                if counter != seen {
                    seen = counter
                    try await state.indexes.catchUp()
                    // A token revoked or a popup link rotated by another process (the CLI, another
                    // node): what this one remembered is forgotten.
                    let version = try await state.store.credentialsVersion()
                    if version != credentials {
                        credentials = version
                        state.credentialsChanged()
                    }
                }
            } catch {
                if state.storeProblem.record(error) { logger.error("following the store failed; retrying", metadata: ["error": "\(Redaction.redacted("\(error)"))"]) }
                seen = nil
            }
            try await Task.sleep(for: interval)
        }
    }
}

import Foundation
import Logging
public import ServiceLifecycle
import StoreContract

/// Runs the sources that are due, on a serving node (never on a mirror).
///
/// Every `tick` it reads the sources from the store — so one added by `caller-lookup sync add`
/// beside the running server is picked up within a tick — and for each whose schedule has a new
/// slot (`now / every`; a new source's first slot is at once) it tries once to claim that slot.
/// The claim is one statement in the store: of several nodes on one PostgreSQL store exactly one
/// runs the slot. A node that dies mid-run changed nothing (the import is one transaction) and
/// holds the source until its lease ends; the next slot is anyone's.
public struct SyncScheduler: Service {
    let runner: SyncRunner
    let store: any RecordStore
    let tick: Duration
    let logger: Logger
    /// Runs at once on this node, at most.
    let concurrentRuns = 4

    public func run() async throws {
        let attempted = AttemptedSlots()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    let sources: [SyncSource]
                    do {
                        sources = try await store.syncSources(organizationID: nil)
                    } catch {
                        logger.debug("sync sources could not be read", metadata: ["error": "\(error)"])
                        sources = []
                    }
                    let now = Int64(Date().timeIntervalSince1970)
                    for source in sources {
                        guard let every = source.definition.everySeconds, every > 0 else { continue }
                        let slot = now / Int64(every)
                        guard attempted.running < concurrentRuns, !runner.isRunning(sourceID: source.id),
                              attempted.first(source.id, slot: slot)
                        else { continue }
                        attempted.started()
                        let runner = self.runner
                        group.addTask {
                            defer { attempted.ended() }
                            _ = try? await runner.run(sourceID: source.id, organizationID: source.organizationID, trigger: .schedule, slot: slot)
                        }
                    }
                    attempted.keep(sources.map(\.id))
                    try? await Task.sleep(for: tick)
                }
                group.cancelAll()
            }
        }
    }
}

/// The slot each source was last tried in by this node, and how many of its runs are going.
private final class AttemptedSlots: @unchecked Sendable {
    private var slots: [Int64: Int64] = [:]
    private var runs = 0
    private let lock = NSLock()

    var running: Int { lock.withLock { runs } }
    func started() { lock.withLock { runs += 1 } }
    func ended() { lock.withLock { runs -= 1 } }

    /// `true` the first time `slot` is asked for the source.
    func first(_ source: Int64, slot: Int64) -> Bool {
        lock.withLock {
            guard slots[source] != slot else { return false }
            slots[source] = slot
            return true
        }
    }

    /// Forgets removed sources.
    func keep(_ sources: [Int64]) {
        let kept = Set(sources)
        lock.withLock { slots = slots.filter { kept.contains($0.key) } }
    }
}

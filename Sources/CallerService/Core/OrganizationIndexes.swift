import Contacts
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import LookupIndex
import PhoneNumbers
import StoreContract
import Synchronization
import ThreadSupport

/// The lookup index of every organization this node serves, each kept at the store's committed
/// version by its `IndexFollower`.
///
/// Index work never runs in a request task: it runs on two threads of its own. On a serving node
/// `StoreFollowerService` builds every index before the node reports ready (`warmUp`) and then has
/// every index caught up whenever anything commits to the store — a write of this process, a CLI
/// import, another node (`catchUp`). A write's handler asks for a catch-up too and awaits the
/// version its commit made (`awaitVersion`), so the writer reads its write at once; concurrent
/// requests share one catch-up. Every catch-up reads only the store's change log and reports the
/// organizations' new versions to `caughtUp` (the change feed's waiters, the remembered
/// credentials). Lookups never build an index on a serving node; outside one (in-process tests of
/// the routes) an index is built on first use.
///
/// With an index directory (`index.directory`), each organization's index is also kept in an
/// `IndexFile` there, written after every full build or compaction (on these threads, after the
/// waiting writers were answered), and the index built in memory is then replaced by the same
/// index mapped from the file (its heap handed back). A start maps the file and catches up from
/// the change log, so a node is ready in a fraction of a second whatever its size; a file that is
/// missing, damaged or stale (another number plan, a store restored behind it) is said in the log
/// and rebuilt.
final class OrganizationIndexes: IndexProvider, Sendable {
    private struct Entry: Sendable {
        let follower: IndexFollower
        let lookup: CallerLookup
    }

    /// How far a warm start has come.
    struct Progress: Hashable, Sendable {
        var built: Int
        var total: Int
    }

    private let store: any RecordStore
    /// Where the index files live; `nil`: none are kept.
    private let directory: String?
    private let logger = Logger(label: "caller-lookup.index")
    private let metrics: ServiceMetrics
    private let notifier: VersionNotifier
    private let threads = WorkerThreads(name: "index follower", count: 2, niceness: 10)
    private struct State {
        var entries: [Int64: Entry] = [:]
        /// Set while `warmUp` runs: lookups of an organization not built yet answer 503 meanwhile.
        var warming: Progress?
        /// Set once a follower service serves this node: lookups never build an index.
        var serving = false
        /// Whether a catch-up runs, and who waits for the next one.
        var catchingUp = false
        var catchUpAsked = false
        var catchUpWaiters: [CheckedContinuation<Void, any Error>] = []
        /// Organizations whose index was built anew and is not in its file yet.
        var unwritten: Set<Int64> = []
        /// Organizations whose file could not be written (said once, until a write works again).
        var writeFailed: Set<Int64> = []
    }

    private let state = Mutex(State())
    /// An organization as committed, its index's version after a catch-up, and whether that
    /// catch-up built or moved the index.
    struct CaughtUp: Sendable {
        let organization: Organization
        let version: Int64
        let moved: Bool
    }

    /// Called after each catch-up with every organization.
    private let caughtUp: @Sendable ([CaughtUp]) -> Void

    /// `caughtUp` learns the indexes' new versions after each catch-up; `notifier` wakes
    /// a write's handler waiting in `awaitVersion` (`caughtUp` publishes to it).
    init(
        store: any RecordStore, directory: String?, metrics: ServiceMetrics, notifier: VersionNotifier,
        caughtUp: @escaping @Sendable ([CaughtUp]) -> Void
    ) {
        self.store = store
        self.directory = directory
        self.metrics = metrics
        self.notifier = notifier
        self.caughtUp = caughtUp
    }

    /// `nil` once warm (or when no warm start runs); otherwise how many indexes are built.
    var loading: Progress? { state.withLock { $0.warming } }

    /// The organization's index and lookup.
    func entry(for organization: Organization) throws -> IndexEntry {
        let (entry, progress, serving): (Entry?, Progress?, Bool) = state.withLock { ($0.entries[organization.id], $0.warming, $0.serving) }
        if let entry { return IndexEntry(index: entry.follower.index, lookup: entry.lookup) }
        if let progress {
            throw HTTPError(
                .serviceUnavailable, headers: [.retryAfter: "1"],
                message: "The node is loading its indexes (\(progress.built) of \(progress.total) built); try again in a second.")
        }
        if serving {
            // An organization created a moment ago: the next catch-up builds its index.
            requestCatchUp()
            throw HTTPError(
                .serviceUnavailable, headers: [.retryAfter: "1"],
                message: "The organization's index is being built; try again in a second.")
        }
        let built = try followed(organization)
        return IndexEntry(index: built.follower.index, lookup: built.lookup)
    }

    /// Marks the node as served by a follower service, warming up until `warmUp` has run, so that
    /// no request builds an index.
    func expectWarmUp() {
        state.withLock { state in
            state.serving = true
            if state.warming == nil, state.entries.isEmpty { state.warming = Progress(built: 0, total: 0) }
        }
    }

    /// Builds every organization's index (a full load from the store each), on both threads so
    /// both cores work while one organization's rows are read; lookups wait for it. An
    /// organization that cannot be built is reported and left to the next catch-up, so one bad
    /// organization does not keep the node from serving the others.
    func warmUp() async throws -> [(organization: Organization, error: any Error)] {
        let organizations = try await store.committedOrganizations()
        state.withLock { $0.warming = Progress(built: 0, total: organizations.count) }
        defer { state.withLock { $0.warming = nil } }
        return await withTaskGroup(of: [(organization: Organization, error: any Error)].self) { group in
            for worker in 0..<min(2, organizations.count) {
                group.addTask {
                    await self.threads.run {
                        var failures: [(organization: Organization, error: any Error)] = []
                        for index in stride(from: worker, to: organizations.count, by: 2) {
                            do {
                                _ = try self.followed(organizations[index])
                            } catch {
                                failures.append((organizations[index], error))
                            }
                            self.state.withLock { $0.warming?.built += 1 }
                        }
                        return failures
                    }
                }
            }
            let failures = await group.reduce(into: []) { $0 += $1 }
            // The full loads' rows are garbage now: hand their pages back (see `ProcessMemory`)
            // before the node reports ready, so no request waits behind the trim's arena locks.
            await threads.run { ProcessMemory.releaseFreed() }
            // The indexes built from rows go to their files once the node serves.
            threads.submit { [self] in writeIndexFiles() }
            return failures
        }
    }

    /// Brings every organization's index to the store's committed version, building those of new
    /// organizations, and reports the versions to `caughtUp`. A catch-up asked for while one runs
    /// is served by the next one, which starts after it was asked for: it sees every commit made
    /// before the call.
    func catchUp() async throws {
        try await withCheckedThrowingContinuation { continuation in
            enqueueCatchUp(continuation)
        }
    }

    /// Asks for a catch-up without waiting for it.
    func requestCatchUp() { enqueueCatchUp(nil) }

    /// Asks for a catch-up and waits, at most `timeout`, until the organization's index has reached
    /// `version` (a write's handler, so the writer reads its write).
    func awaitVersion(_ version: Int64, of organizationID: Int64, timeout: Duration = .seconds(10)) async {
        // A write that changed nothing (an unchanged PUT) needs no catch-up.
        if let reached = state.withLock({ $0.entries[organizationID]?.follower.index.snapshot.version }), reached >= version { return }
        requestCatchUp()
        await notifier.wait(organizationID: organizationID, after: version - 1, timeout: timeout)
    }

    private func enqueueCatchUp(_ waiter: CheckedContinuation<Void, any Error>?) {
        let start: Bool = state.withLock { state in
            if let waiter { state.catchUpWaiters.append(waiter) }
            state.catchUpAsked = true
            defer { state.catchingUp = true }
            return !state.catchingUp
        }
        guard start else { return }
        threads.submit { [self] in
            // Who asked before a run starts is served by it; who asks during it, by the next.
            while let waiters = state.withLock({ state -> [CheckedContinuation<Void, any Error>]? in
                guard state.catchUpAsked else {
                    state.catchingUp = false
                    return nil
                }
                state.catchUpAsked = false
                defer { state.catchUpWaiters.removeAll() }
                return state.catchUpWaiters
            }) {
                let result = Result { try catchUpAll() }
                if case .success(let versions) = result { caughtUp(versions) }
                for waiter in waiters { waiter.resume(with: result.map { _ in }) }
                writeIndexFiles()
            }
        }
    }

    /// Every organization, its index's version, and whether this run built or moved the index.
    private func catchUpAll() throws -> [CaughtUp] {
        var rebuilt = false
        // An index built anew (an upload's replace-all, a compaction, a new organization) leaves
        // the old one and its rows as garbage: hand their pages back, as after the warm start.
        defer { if rebuilt { ProcessMemory.releaseFreed() } }
        return try store.committedOrganizationsBlocking().map { organization in
            // A changed default region or suffix length (`org set`): the index and lookup are made
            // anew for the new settings.
            if let entry = state.withLock({ $0.entries[organization.id] }),
                entry.follower.suffixDigits != organization.suffixDigits || entry.lookup.region != organization.defaultRegion
            {
                logger.info(
                    "organization settings changed; rebuilding its index", metadata: [
                        "organization": "\(organization.name)", "region": "\(organization.defaultRegion)", "suffixDigits": "\(organization.suffixDigits)",
                    ])
                state.withLock { _ = $0.entries.removeValue(forKey: organization.id) }
            }
            if let follower = state.withLock({ $0.entries[organization.id]?.follower }) {
                let version = follower.index.snapshot.version
                guard version != organization.version else { return CaughtUp(organization: organization, version: version, moved: false) }
                let (reached, built) = try follower.catchUpReportingRebuilds()
                if built {
                    rebuilt = true
                    markUnwritten(organization.id)
                }
                metrics.index(organization: organization.name, snapshot: follower.index.snapshot)
                return CaughtUp(organization: organization, version: reached, moved: true)
            }
            rebuilt = true
            return CaughtUp(organization: organization, version: try followed(organization).follower.index.snapshot.version, moved: true)
        }
    }

    private func followed(_ organization: Organization) throws -> Entry {
        if let entry = state.withLock({ $0.entries[organization.id] }) { return entry }
        guard let lookup = CallerLookup(region: organization.defaultRegion) else {
            throw ContactStoreError(.unknownRegion, "The organization's region \(organization.defaultRegion) is unknown.")
        }
        let source = store.changeSource(organizationID: organization.id)
        let follower: IndexFollower
        if let mapped = try startFromFile(organization, source: source) {
            follower = mapped
        } else {
            follower = try IndexFollower(source: source, suffixDigits: organization.suffixDigits)
            markUnwritten(organization.id)
        }
        let entry = Entry(follower: follower, lookup: lookup)
        metrics.index(organization: organization.name, snapshot: follower.index.snapshot)
        return state.withLock { state in
            if let existing = state.entries[organization.id] { return existing }
            state.entries[organization.id] = entry
            return entry
        }
    }

    private func indexFile(of organizationID: Int64) -> String? {
        directory.map { "\($0)/\(organizationID).index" }
    }

    /// A follower started from the organization's index file and brought to the store's version,
    /// or `nil` (said in the log) when there is no usable file.
    private func startFromFile(_ organization: Organization, source: any ChangeSource) throws -> IndexFollower? {
        guard let path = indexFile(of: organization.id) else { return nil }
        let started = ContinuousClock.now
        let contents: IndexFile.Contents
        do {
            contents = try IndexFile.read(from: path)
        } catch let error as IndexFileError {
            if error.missing {
                logger.info("no index file yet; building the index from the store", metadata: ["organization": "\(organization.name)"])
            } else {
                logger.warning("index file not used; building the index from the store", metadata: ["organization": "\(organization.name)", "reason": "\(error)"])
            }
            return nil
        }
        if let stale = contents.staleness(
            organizationID: organization.id, suffixDigits: organization.suffixDigits,
            planFingerprint: NumberPlanFile.current.fingerprint, storeVersion: organization.version)
        {
            logger.warning("index file is stale; building the index from the store", metadata: ["organization": "\(organization.name)", "path": "\(path)", "reason": "\(stale)"])
            return nil
        }
        let follower = IndexFollower(source: source, startingFrom: contents.snapshot)
        let (version, rebuilt) = try follower.catchUpReportingRebuilds()
        if rebuilt { markUnwritten(organization.id) }
        logger.info(
            "index read from its file", metadata: [
                "organization": "\(organization.name)", "contacts": "\(follower.index.snapshot.count)", "fileVersion": "\(contents.snapshot.version)",
                "version": "\(version)", "seconds": "\((ContinuousClock.now - started).seconds)",
            ])
        return follower
    }

    private func markUnwritten(_ organizationID: Int64) {
        if directory != nil { state.withLock { _ = $0.unwritten.insert(organizationID) } }
    }

    /// Writes the file of every index built anew since the last write (on an index thread).
    private func writeIndexFiles() {
        guard let directory else { return }
        // The files hold the contacts: the owner's alone, like the store.
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            logger.error("cannot create the index directory", metadata: ["path": "\(directory)", "error": "\(String(cString: strerror(errno)))"])
            return
        }
        let pending: [(Int64, IndexFollower)] = state.withLock { state in
            defer { state.unwritten.removeAll() }
            return state.unwritten.compactMap { id in state.entries[id].map { (id, $0.follower) } }
        }
        var mappedAny = false
        defer { if mappedAny { ProcessMemory.releaseFreed() } }
        for (organizationID, follower) in pending {
            guard let path = indexFile(of: organizationID) else { continue }
            do {
                let started = ContinuousClock.now
                let snapshot = follower.index.snapshot
                try IndexFile.write(snapshot, organizationID: organizationID, planFingerprint: NumberPlanFile.current.fingerprint, to: path)
                logger.info(
                    "index file written", metadata: [
                        "path": "\(path)", "version": "\(snapshot.version)", "contacts": "\(snapshot.count)",
                        "seconds": "\((ContinuousClock.now - started).seconds)",
                    ])
                if state.withLock({ $0.writeFailed.remove(organizationID) }) != nil {
                    logger.info("index file written again", metadata: ["path": "\(path)"])
                }
                // The index built in memory gives way to the same index mapped from its file: the
                // heap it held goes back to the system, and the file's pages are the page cache's,
                // which a restart would map anyway.
                if let mapped = try? IndexFile.read(from: path).snapshot, follower.republish(mapped, replacing: snapshot) {
                    mappedAny = true
                }
            } catch {
                if state.withLock({ $0.writeFailed.insert(organizationID).inserted }) {
                    logger.error("cannot write the index file; the next start rebuilds from the store", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

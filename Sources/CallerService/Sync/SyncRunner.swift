import AsyncHTTPClient
import Contacts
import Foundation
import NIOCore
public import Logging
public import PhoneNumbers
public import StoreContract
import Synchronization
import ThreadSupport

/// Runs sync sources: claims a source in the store (one holder at a time, one scheduled run per
/// slot), fetches its export, imports it by the upload's rules — all of it or nothing — and keeps
/// the run. The service runs it on a schedule and by hand (`/v3/sync/{id}/run`, the admin page);
/// `caller-lookup sync run` runs it without a server.
public final class SyncRunner: Sendable {
    let store: any RecordStore
    let validator: PhoneNumberValidator
    let settings: SyncSettings
    let logger: Logger
    /// This process, as it claims sources: host, process and a random part.
    let holder: String
    /// What the service does when a run ends: wait for its index, count it.
    let observer: Observer
    /// The runs in progress in this process, so removing a source stops its run.
    private let running = Mutex<[Int64: Task<SyncRun, Never>]>([:])

    struct Observer: Sendable {
        var imported: @Sendable (_ organizationID: Int64, _ version: Int64) async -> Void = { _, _ in }
        var finished: @Sendable (_ source: SyncSource, _ run: SyncRun) -> Void = { _, _ in }
    }

    /// A runner over `store`; `caller-lookup sync run` uses it alone, the service with its indexes.
    public convenience init(store: any RecordStore, settings: SyncSettings = SyncSettings(), logger: Logger) {
        self.init(store: store, validator: PhoneNumberValidator(), settings: settings, logger: logger, observer: Observer())
    }

    init(store: any RecordStore, validator: PhoneNumberValidator, settings: SyncSettings, logger: Logger, observer: Observer) {
        self.store = store
        self.validator = validator
        self.settings = settings
        self.logger = logger
        self.observer = observer
        holder = "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Runs a source now (by hand); `SyncBusy` when it is running already, here or on another node.
    public func runNow(sourceID: Int64, organizationID: Int64) async throws -> SyncRun {
        guard let run = try await run(sourceID: sourceID, organizationID: organizationID, trigger: .hand, slot: nil) else {
            guard try await store.syncSources(organizationID: organizationID).contains(where: { $0.id == sourceID }) else {
                throw ContactStoreError(.notFound, "The organization has no sync source \(sourceID).")
            }
            throw SyncBusy(sourceID: sourceID)
        }
        return run
    }

    /// Runs a source if this process can claim it (for `slot`, when scheduled); `nil` when another
    /// run holds it or the slot has run.
    func run(sourceID: Int64, organizationID: Int64, trigger: SyncRun.Trigger, slot: Int64?) async throws -> SyncRun? {
        let now = Date().timeIntervalSince1970
        guard let source = try await store.claimSyncSource(
            id: sourceID, organizationID: organizationID, holder: holder, now: now, leaseUntil: now + settings.leaseSeconds, slot: slot)
        else { return nil }
        let task = Task { await self.execute(source, trigger: trigger, started: now) }
        running.withLock { $0[sourceID] = task }
        let run = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        running.withLock { _ = $0.removeValue(forKey: sourceID) }
        return run
    }

    /// Stops this process's run of the source, if any (it was removed): nothing is imported.
    func cancel(sourceID: Int64) {
        running.withLock { $0[sourceID] }?.cancel()
    }

    /// Whether this process is running the source now.
    func isRunning(sourceID: Int64) -> Bool {
        running.withLock { $0[sourceID] != nil }
    }

    private func execute(_ source: SyncSource, trigger: SyncRun.Trigger, started: Double) async -> SyncRun {
        var run = SyncRun(sourceID: source.id, started: started, finished: started, trigger: trigger, outcome: .failed)
        var validators: SyncValidators?
        do {
            let client = HTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                configuration: HTTPClient.Configuration(
                    redirectConfiguration: .disallow,
                    timeout: .init(connect: .seconds(Int64(settings.connectTimeout.components.seconds)),
                                   read: .seconds(Int64(settings.pageTimeout.components.seconds) + 1))))
            let fetched: Result<FetchedExport, any Error>
            do {
                fetched = .success(try await SyncFetcher(client: client, settings: settings).fetch(source))
            } catch {
                fetched = .failure(error)
            }
            try? await client.shutdown()
            switch try fetched.get() {
            case .notModified:
                run.outcome = .unchanged
                run.httpStatus = 304
                run.message = "The export has not changed since the last run (304 Not Modified)."
            case .export(let export, let pages, let bytes, let fetchedValidators):
                run.httpStatus = 200
                run.pages = pages
                run.bytes = bytes
                try Task.checkCancellation()
                guard try await store.syncSources(organizationID: source.organizationID).contains(where: { $0.id == source.id }) else {
                    throw CancellationError()
                }
                let report = try await importExport(export, source: source)
                await offCooperativePool { ProcessMemory.releaseFreed() }
                run.outcome = .success
                run.imported = report.imported
                run.created = report.created
                run.updated = report.updated
                run.deleted = report.deleted
                run.unchanged = report.unchanged
                run.rejected = report.rejected.count
                (run.errorLines, run.errors) = Self.errors(report.rejected)
                run.version = report.version
                validators = fetchedValidators
                await observer.imported(source.organizationID, report.version)
            }
        } catch let failure as SyncFetchFailure {
            run.outcome = .failed
            run.httpStatus = failure.status ?? run.httpStatus
            run.message = failure.message
        } catch let rejection as ImportRejection {
            run.outcome = .refused
            run.message = rejection.message
            run.rejected = rejection.rejected.count
            (run.errorLines, run.errors) = Self.errors(rejection.rejected)
        } catch is CancellationError {
            run.outcome = .failed
            run.message = "The run was stopped (the source was removed, or the server is shutting down); nothing was imported."
        } catch let error as ContactStoreError {
            run.outcome = error.code == .invalidInput ? .refused : .failed
            run.message = error.code == .database ? "The store failed: \(Redaction.redacted(error.message))" : error.message
        } catch let failure as BatchFailure {
            run.outcome = .refused
            run.message = "Item \(failure.index + 1): \(failure.error.message)"
        } catch {
            run.outcome = .failed
            run.message = "The run failed: \(Redaction.redacted(String(describing: error)))"
        }
        run.finished = Date().timeIntervalSince1970
        run.id = await record(run, of: source, validators: validators) ?? 0
        return run
    }

    /// The export into the store, replace-all or create-or-update by `externalId`.
    private func importExport(_ export: ImportSource, source: SyncSource) async throws -> ImportReport {
        let definition = source.definition
        switch definition.mode {
        case .replace:
            return try await store.importContacts(
                export, organizationID: source.organizationID, validator: validator,
                options: ImportOptions(maxDeletePercent: definition.maxDeletePercent))
        case .upsert:
            let validator = self.validator
            let (rows, summary) = try await offCooperativePool { () throws -> ([ImportedRow], ParsedImport.Summary) in
                var rows: [ImportedRow] = []
                var records = export.makeReader()
                let summary = try ParsedImport.parse(&records, mapping: export.mapping, validator: validator) { rows += $0 }
                return (rows, summary)
            }
            var rejected = summary.rejected
            var writes: [ContactWrite] = []
            writes.reserveCapacity(rows.count)
            for row in rows {
                guard !row.contact[.externalId].isEmpty else {
                    rejected.append(RejectedRow(line: row.line, violations: [ContactRuleViolation(field: .externalId, value: "", rule: .required)]))
                    continue
                }
                writes.append(.upsert(row.contact))
            }
            guard !writes.isEmpty else {
                throw ImportRejection(
                    "No row of the export has a valid contact with an externalId, so nothing was imported:\n" + rejected.reportText,
                    rejected: rejected)
            }
            let (results, version) = try await store.apply(writes, organizationID: source.organizationID)
            var report = ImportReport(imported: writes.count, created: 0, updated: 0, deleted: 0, unchanged: 0, rejected: rejected, version: version)
            for result in results {
                switch result {
                case .created: report.created += 1
                case .updated: report.updated += 1
                case .unchanged: report.unchanged += 1
                case .deleted: report.deleted += 1
                }
            }
            return report
        }
    }

    /// Keeps the run, and logs it when the source's state changed (failing ↔ working), not on
    /// every failing minute.
    private func record(_ run: SyncRun, of source: SyncSource, validators: SyncValidators?) async -> Int64? {
        let previous = try? await store.syncRuns(sourceID: source.id, organizationID: source.organizationID, limit: 1).first
        var id: Int64?
        do {
            id = try await store.finishSyncRun(run, organizationID: source.organizationID, holder: holder, validators: validators)
        } catch {
            logger.error("a sync run could not be kept", metadata: ["source": "\(source.id)", "error": "\(Redaction.redacted(String(describing: error)))"])
        }
        var metadata: Logger.Metadata = [
            "source": "\(source.id)", "organization": "\(source.organizationID)", "outcome": "\(run.outcome.rawValue)",
            "trigger": "\(run.trigger.rawValue)", "imported": "\(run.imported)", "rejected": "\(run.rejected)",
        ]
        if !run.message.isEmpty { metadata["message"] = "\(run.message.prefix(300))" }
        if run.isFailure, previous?.isFailure != true {
            logger.warning("a sync source is failing", metadata: metadata)
        } else if !run.isFailure, previous?.isFailure == true {
            logger.info("a sync source works again", metadata: metadata)
        } else {
            logger.debug("sync run", metadata: metadata)
        }
        observer.finished(source, run)
        return id
    }

    /// The first rejected rows, as the run keeps them.
    private static func errors(_ rejected: RejectedRowList) -> ([String], [SyncRun.RowError]) {
        let rows = rejected.listed.prefix(20)
        let errors = rows.flatMap { row in
            row.violations.map { violation in
                SyncRun.RowError(
                    line: row.line, column: violation.field?.rawValue, value: String(violation.value.prefix(100)),
                    rule: violation.ruleName, message: violation.message)
            }
        }
        return (rows.map(\.reportLine), Array(errors.prefix(50)))
    }
}

/// A run asked for while the source is already running.
public struct SyncBusy: Error, CustomStringConvertible {
    public let sourceID: Int64
    public var description: String {
        "Sync source \(sourceID) is running just now (here or on another node); its run is kept in its runs when it ends."
    }
}

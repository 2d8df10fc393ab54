import Contacts
import Foundation
import PhoneNumbers
import StoreContract

/// Hands windows of checked rows from the thread that reads a CSV file to the thread that writes
/// them, at most `capacity` windows ahead, so reading, checking and writing overlap.
final class RowChannel: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    private var windows: [[ImportedRow]] = []
    private var finished = false
    private var cancelled = false

    struct Cancelled: Error {}

    init(capacity: Int = 2) {
        self.capacity = capacity
    }

    /// Called by the reader; waits while the writer is `capacity` windows behind. Throws when the
    /// writer gave up.
    func send(_ rows: [ImportedRow]) throws {
        condition.lock()
        defer { condition.unlock() }
        while windows.count >= capacity, !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        windows.append(rows)
        condition.broadcast()
    }

    /// Called by the reader when it stops, successfully or not.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Called by the writer; the next window, or `nil` once the reader finished and all were taken.
    func receive() -> [ImportedRow]? {
        condition.lock()
        defer { condition.unlock() }
        while windows.isEmpty, !finished { condition.wait() }
        guard !windows.isEmpty else { return nil }
        condition.broadcast()
        return windows.removeFirst()
    }

    /// Called by the writer when it fails: the reader stops at its next window.
    func cancel() {
        condition.lock()
        cancelled = true
        windows.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}

extension SQLiteStore {
    /// Imports a CSV file (replace-all) and returns the contract's report.
    ///
    /// The file is read and checked on a second thread (the checks themselves on every core) while
    /// this thread writes each window of accepted rows inside the import's one transaction: a 20 MB
    /// file is read, checked and written in about the time each step alone would take. When the
    /// file is refused — even after some rows were written — the transaction is rolled back and
    /// the `ImportRejection` is thrown; nothing changes. A `dryRun` does all of it, reports it, and
    /// rolls it back.
    public func importContacts(
        csv bytes: [UInt8], organizationID: Int64, validator: PhoneNumberValidator, dryRun: Bool = false
    ) throws -> ImportReport {
        let channel = RowChannel()
        let parsed = ParseOutcome()
        let reader = Thread {
            defer { channel.finish() }
            parsed.result = Result { () throws(ImportRejection) in
                try ParsedImport.parse(bytes, validator: validator) { rows in try channel.send(rows) }
            }
        }
        reader.stackSize = 8 << 20
        reader.start()
        let outcome: ReplaceOutcome
        do {
            outcome = try replaceAll(organizationID: organizationID, dryRun: dryRun) {
                if let window = channel.receive() { return window.map(\.contact) }
                // The reader finished: a refusal now rolls back what was written.
                if case .failure(let rejection) = parsed.result { throw rejection }
                return nil
            }
        } catch let dryRun as DryRunOutcome {
            outcome = dryRun.outcome
        } catch {
            channel.cancel()
            parsed.waitForReader(channel)
            throw error
        }
        guard case .success(let summary) = parsed.result else {
            preconditionFailure("the reader finished without a result")
        }
        return ImportReport(imported: summary.acceptedCount, created: outcome.created, updated: outcome.updated,
                            deleted: outcome.deleted, unchanged: outcome.unchanged,
                            rejected: summary.rejected, version: outcome.version)
    }
}

/// The reader thread's result, read by the writer after the channel says the reader finished.
private final class ParseOutcome: @unchecked Sendable {
    var result: Result<ParsedImport.Summary, ImportRejection>?

    /// Waits until the reader has stopped (after a cancel) so no thread outlives the import.
    func waitForReader(_ channel: RowChannel) {
        while channel.receive() != nil {}
    }
}

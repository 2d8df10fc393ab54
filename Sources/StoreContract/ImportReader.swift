package import Contacts
import Foundation
package import PhoneNumbers
import ThreadSupport

/// The reading side of a CSV import (replace-all), the same for every engine.
///
/// A thread of its own reads and checks the file (the checks themselves on every core) and hands
/// windows of accepted contacts to the engine's writer, at most two windows ahead: reading,
/// checking and writing overlap, and memory stays bounded whatever the file's size. The writer
/// takes the windows on a thread of its own (`next()`) or awaits them (`windows`), writes them in
/// the import's one transaction, and turns its outcome into the report (`report(_:)`). When the
/// file is refused — even after some windows were written — the last `next()` throws the
/// `ImportRejection`, and the writer's transaction rolls back: nothing changes.
package final class ImportReader: Sendable {
    /// Starts reading a CSV file of the import contract.
    package convenience init(csv bytes: [UInt8], validator: PhoneNumberValidator) {
        self.init(.csv(bytes), validator: validator)
    }

    private let channel = RowChannel()
    private let parsed = ParseOutcome()

    /// Starts reading `source`.
    package init(_ source: ImportSource, validator: PhoneNumberValidator) {
        let (channel, parsed) = (channel, parsed)
        let reader = Thread {
            defer { channel.finish() }
            var records = source.makeReader()
            parsed.result = Result { () throws(ImportRejection) in
                try ParsedImport.parse(&records, mapping: source.mapping, validator: validator) { rows in
                    try channel.send(rows.map(\.contact))
                }
            }
        }
        reader.stackSize = 8 << 20
        reader.start()
    }

    /// The next window, waiting on the calling thread (never one of Swift's cooperative pool);
    /// `nil` after the last one. A refused file throws its `ImportRejection` instead of `nil`.
    package func next() throws -> [Contact]? {
        if let window = channel.receive() { return window }
        if case .failure(let rejection) = parsed.result { throw rejection }
        return nil
    }

    /// The most windows that were ever read ahead of the writer.
    package var windowsReadAhead: Int { channel.peakWindows }

    /// The windows for a writer that awaits: each wait on a dispatch thread, none on the
    /// cooperative pool, the next window asked for only when the writer wants it.
    package var windows: Windows { Windows(reader: self) }

    package struct Windows: AsyncSequence, Sendable {
        let reader: ImportReader

        package struct AsyncIterator: AsyncIteratorProtocol {
            let reader: ImportReader

            package mutating func next() async throws -> [Contact]? {
                let reader = self.reader
                return try await offCooperativePool { try reader.next() }
            }
        }

        package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: reader) }
    }

    /// The contract's report of the import, from the writer's outcome: a dry run's
    /// `DryRunOutcome` is its outcome; any other failure stops the reader (and waits until it
    /// has, so no thread outlives the import) and is rethrown.
    package func report(_ written: Result<ReplaceOutcome, any Error>) throws -> ImportReport {
        let outcome: ReplaceOutcome
        switch written {
        case .success(let written): outcome = written
        case .failure(let dryRun as DryRunOutcome): outcome = dryRun.outcome
        case .failure(let refusal as DeleteLimitExceeded):
            guard case .success(let summary) = parsed.result else { throw refusal }
            throw ImportRejection(refusal.message, rejected: summary.rejected)
        case .failure(let error):
            channel.cancel()
            while channel.receive() != nil {}
            throw error
        }
        guard case .success(let summary) = parsed.result else {
            throw ContactStoreError(.database, "The file's check ended without a result.")
        }
        return ImportReport(imported: summary.acceptedCount, created: outcome.created, updated: outcome.updated,
                            deleted: outcome.deleted, unchanged: outcome.unchanged,
                            rejected: summary.rejected, version: outcome.version)
    }
}

/// The reader thread's result, read by the writer after the channel says the reader finished.
private final class ParseOutcome: @unchecked Sendable {
    var result: Result<ParsedImport.Summary, ImportRejection>?
}

/// Hands windows of accepted contacts from the thread that reads a CSV file to the thread that writes
/// them, at most `capacity` windows ahead, so reading, checking and writing overlap.
final class RowChannel: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    private var windows: [[Contact]] = []
    private var finished = false
    private var cancelled = false
    /// The most windows ever waiting at once (at most `capacity`): what the tests check.
    private(set) var peak = 0

    struct Cancelled: Error {}

    init(capacity: Int = 2) {
        self.capacity = capacity
    }

    /// Called by the reader; waits while the writer is `capacity` windows behind. Throws when the
    /// writer gave up.
    func send(_ rows: [Contact]) throws {
        condition.lock()
        defer { condition.unlock() }
        while windows.count >= capacity, !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        windows.append(rows)
        peak = max(peak, windows.count)
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
    func receive() -> [Contact]? {
        condition.lock()
        defer { condition.unlock() }
        while windows.isEmpty, !finished { condition.wait() }
        guard !windows.isEmpty else { return nil }
        condition.broadcast()
        return windows.removeFirst()
    }

    var peakWindows: Int {
        condition.lock()
        defer { condition.unlock() }
        return peak
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

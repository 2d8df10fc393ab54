import Contacts
import Foundation
import PhoneNumbers
import StoreContract
import Testing

/// The import's reading side, the same for both engines: the reader never runs more than two
/// windows ahead of a slow writer, whether the writer takes them on its own thread (SQLite) or
/// awaits them (PostgreSQL's COPY), and a refused file is refused after its last window.
@Suite struct ImportReaderTests {
    /// `rows` valid contacts: four windows and a bit at 60,000.
    static func csv(rows: Int) -> [UInt8] {
        var text = "lastName;phone1\n"
        for row in 0..<rows { text += "N\(row);+420 601 \(String(100_000 + row).suffix(6))\n" }
        return Array(text.utf8)
    }

    @Test func aSlowWriterThatAwaitsHoldsTheReaderBack() async throws {
        let reader = ImportReader(csv: Self.csv(rows: 60_000), validator: PhoneNumberValidator())
        // Time enough to read the whole file if nothing held the reader back.
        try await Task.sleep(for: .seconds(2))
        var contacts = 0
        var windows = 0
        for try await window in reader.windows {
            try await Task.sleep(for: .milliseconds(100))
            contacts += window.count
            windows += 1
        }
        #expect(contacts == 60_000 && windows == 4)
        #expect(reader.windowsReadAhead <= 2, "at most two windows wait for the writer")
        var outcome = ReplaceOutcome()
        outcome.created = contacts
        let report = try reader.report(.success(outcome))
        #expect(report.imported == 60_000 && report.rejected.isEmpty)
    }

    @Test func aSlowWriterOnItsOwnThreadHoldsTheReaderBack() throws {
        let reader = ImportReader(csv: Self.csv(rows: 60_000), validator: PhoneNumberValidator())
        usleep(2_000_000)
        var contacts = 0
        while let window = try reader.next() {
            usleep(100_000)
            contacts += window.count
        }
        #expect(contacts == 60_000)
        #expect(reader.windowsReadAhead <= 2)
    }

    @Test func aRefusedFileIsRefusedAfterItsLastWindow() throws {
        var bytes = Self.csv(rows: 20_000)
        bytes += [0xFF, 0x0A]  // not UTF-8, on the last line
        let reader = ImportReader(csv: bytes, validator: PhoneNumberValidator())
        var contacts = 0
        #expect(throws: ImportRejection.self) {
            while let window = try reader.next() { contacts += window.count }
        }
        #expect(throws: ImportRejection.self) { try reader.report(.failure(ImportRejection("stopped"))) }
    }
}

import ArgumentParser
import Contacts
import Foundation
import Logging
import PhoneNumbers
import PostgresEngine
import StoreContract

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Write a realistic CSV of synthetic contacts to standard output.")

    @Option(help: "How many contacts.") var rows: Int
    @Option(help: "Random seed: the same seed gives the same file.") var seed: UInt64 = 1

    func validate() throws {
        guard rows >= 0 else { throw ValidationError("--rows must be 0 or more.") }
    }

    func run() throws {
        var generator = ContactGenerator(seed: seed)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        generator.csv(rows: rows) { line in
            buffer.append(contentsOf: line.utf8)
            if buffer.count >= 1 << 20 {
                FileHandle.standardOutput.write(Data(buffer))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(Data(buffer))
    }
}

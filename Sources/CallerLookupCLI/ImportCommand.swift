import ArgumentParser
import Contacts
import Foundation
import Logging
import PhoneNumbers
import PostgresEngine
import StoreContract

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Replace an organization's contacts with a CSV file; prints the import report as JSON.")

    @Argument(help: "The CSV file (the import contract: docs/contract.md).") var file: String
    @Option(help: "The organization to import into.") var org: String
    @Flag(help: "Check the file and print what the import would do, changing nothing.") var dryRun = false
    @OptionGroup var options: DataOptions
    @OptionGroup var plan: NumberPlanOptions

    func run() async throws {
        try handlingErrors { try plan.apply() }
        try await handlingErrors {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw Failure("Cannot read '\(file)'.")
            }
            let progress = Terminal.isTerminal(FileHandle.standardError.fileDescriptor)
            if progress { Terminal.status("reading, checking and writing \(data.count) bytes…") }
            defer { if progress { Terminal.status("") } }
            do {
                let dryRun = self.dryRun
                var report = try await options.withStore(organization: org) { store, organization in
                    try await store.importContacts(csv: Array(data), organizationID: organization.id, validator: PhoneNumberValidator(), dryRun: dryRun)
                }
                report.dryRun = dryRun
                print(report.json)
            } catch let error as ImportRejection {
                print(error.json)
                throw Failure("The file was rejected: \(error.message)")
            }
        }
    }
}

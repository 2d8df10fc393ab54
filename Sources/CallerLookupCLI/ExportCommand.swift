import ArgumentParser
import Contacts
import Foundation
import StoreContract

/// `caller-lookup export --org NAME`: the organization's contacts as the upload's CSV on standard
/// output — uploading it again reports every row unchanged.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an organization's contacts to standard output as the upload's CSV (the customer's header, ';', every column).",
        discussion: "Uploading or importing the file again changes nothing: every row is reported unchanged.")

    @Option(help: "The organization.") var org: String
    @OptionGroup var options: DataOptions

    func run() async throws {
        try await handlingErrors {
            let count = try await options.withStore(organization: org) { store, organization in
                try await ContactExport.write(from: store, organizationID: organization.id) { text in
                    FileHandle.standardOutput.write(Data(text.utf8))
                }
            }
            printError("exported \(count) contacts of '\(org)'")
        }
    }
}

import ArgumentParser
import CallerService
import Contacts
import Foundation
import Logging
import PhoneNumbers
import PostgresEngine
import StoreContract

@main
struct CallerLookupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caller-lookup",
        abstract: "Who is calling? Contacts by CSV or REST, answered from an in-memory index.",
        subcommands: [
            OrgCommand.self, UserCommand.self, TokenCommand.self, MigrateCommand.self, ImportCommand.self, ExportCommand.self, LookupCommand.self, ValidateCommand.self,
            SyncCommand.self, CheckNumbersCommand.self, NumberPlanCommand.self, GenerateCommand.self, BenchCommand.self, ServeCommand.self, MirrorCommand.self,
        ]
    )

    /// This build's version (see CHANGELOG.md).
    static let version = CallerLookupVersion.current

    @Flag(help: "Print the version and the libphonenumber it runs with.") var version = false

    /// Every file this program writes (the store, its WAL, a mirror's snapshot) is the owner's
    /// alone, whatever umask it was started with; the store checks its own files too.
    static func main() async {
        umask(0o077)
        await main(nil)
    }

    func run() async throws {
        guard version else {
            print(Self.helpMessage())
            return
        }
        print("caller-lookup \(Self.version)")
        print(PhoneNumberLibrary.plan)
        print("C++ " + PhoneNumberLibrary.description)
    }
}

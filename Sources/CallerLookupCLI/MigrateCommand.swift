import SQLiteEngine
import ArgumentParser
import Contacts
import Foundation
import Logging
import PhoneNumbers
import PostgresEngine
import StoreContract

/// `caller-lookup migrate`: brings the store's schema to this build's version and says where it
/// is. Opening a store migrates it too; this runs it on its own (before starting new nodes on an
/// upgraded build) and fails on a store newer than this build.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the store's pending schema migrations and print its schema version.")

    @OptionGroup var options: DataOptions

    func run() async throws {
        try await handlingErrors {
            switch try options.location() {
            case .sqlite(let directory):
                let (version, known) = try options.openStore().schemaVersion()
                print("schema at version \(version) of \(known) in \(directory)")
            case .postgres(let url):
                let version = try await options.withPostgres(url) { try await $0.migrate() }
                print("schema at version \(version) of \(version) in \(Redaction.redacted(url))")
            }
        }
    }
}

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
                let before = try SQLiteStore.schemaVersion(ofStoreIn: directory)
                let (version, known) = try options.openStore().schemaVersion()
                print(Self.report(before: before, after: version, known: known, store: directory))
            case .postgres(let url):
                let (before, after, known) = try await options.withPostgres(url) { store in
                    let (before, known) = try await store.schemaVersion()
                    return (before, try await store.migrate(), known)
                }
                print(Self.report(before: before == 0 ? nil : before, after: after, known: known, store: Redaction.redacted(url)))
            }
        }
    }

    /// `schema migrated from version 3 to 4 of 4 in …`, or `schema at version 4 of 4 in …` when
    /// nothing was pending.
    static func report(before: Int?, after: Int, known: Int, store: String) -> String {
        guard let before else { return "schema created at version \(after) of \(known) in \(store)" }
        guard before != after else { return "schema at version \(after) of \(known) in \(store) (nothing to migrate)" }
        return "schema migrated from version \(before) to \(after) of \(known) in \(store)"
    }
}

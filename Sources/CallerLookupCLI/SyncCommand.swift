import ArgumentParser
import CallerService
import Foundation
import Logging
import PhoneNumbers
import StoreContract

/// `caller-lookup sync add|list|run|runs|remove`: contacts pulled from the customer's CRM.
struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Keep an organization's contacts in step with an export of its CRM (CSV or JSON over HTTP).",
        discussion: """
            A source is fetched on its schedule by the running server (serve), or now with 'sync run'. \
            Each run imports by the upload's rules, all of it or nothing; see docs/sync.md.
            """,
        subcommands: [Add.self, List.self, Run.self, Runs.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a source; its id is printed alone on the last line.",
            discussion: """
                Examples:
                  caller-lookup sync add --org acme --url https://crm.example.com/export.csv \\
                    --map lastName=Surname --map phone1="Mobile Phone" --every 15m
                  caller-lookup sync add --org acme --url https://api.example.com/contacts --format json \\
                    --header 'Authorization: Bearer TOKEN' --items '$.results' --next '$.paging.next' \\
                    --map firstName='$.properties.firstname' --map phone1='$.phones[0].number' --region CZ
                """)

        @Option(help: "The organization.") var org: String
        @Option(help: "The export's URL (http or https).") var url: String
        @Option(help: "csv or json.") var format = "csv"
        @Option(help: "replace (the export is every contact: the upload's replace-all) or upsert (create or update by externalId, delete nothing).")
        var mode = "replace"
        @Option(help: "How often the server runs it (90s, 15m, 1h, 1d; at least 1m). Without it: only by hand.")
        var every: String?
        @Option(name: .customLong("header"), help: "A request header, 'Name: value' (repeatable). Values are never shown again.")
        var headers: [String] = []
        @Option(name: .customLong("map"), help: "FIELD=SOURCE: the CSV column or JSON path our field comes from (repeatable).")
        var maps: [String] = []
        @Option(help: "JSON: where the item array is ($.results, $.data.contacts); the page itself when not given.")
        var items: String?
        @Option(help: "JSON: where a page names the next page's URL ($.paging.next). Link: rel=\"next\" headers are followed too.")
        var next: String?
        @Option(help: "Read numbers written without + as dialled in this region (CZ); stored in E.164.")
        var region: String?
        @Option(help: "Refuse a replace run that would delete more than this percent of the contacts (default 50).")
        var maxDelete: Int?
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                let definition = try SyncRules.definition(
                    url: url, format: format, mode: mode, every: every, headers: headers, mappings: maps, items: items, next: next,
                    region: region, maxDeletePercent: maxDelete, validator: PhoneNumberValidator())
                let (organization, source) = try await options.withStore(organization: org) { store, organization in
                    (organization, try await store.addSyncSource(definition, organizationID: organization.id))
                }
                let schedule = definition.everySeconds.map { "every \($0) s" } ?? "by hand only"
                print("added \(definition.format.rawValue) source \(source.id) for '\(organization.name)' (\(definition.mode.rawValue), \(schedule)):")
                print(source.id)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organization's sources (header values redacted) as JSON lines.")

        @Option(help: "The organization.") var org: String
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                let listed = try await options.withStore(organization: org) { store, organization in
                    var listed: [(SyncSource, SyncRun?)] = []
                    for source in try await store.syncSources(organizationID: organization.id) {
                        listed.append((source, try await store.syncRuns(sourceID: source.id, organizationID: organization.id, limit: 1).first))
                    }
                    return listed
                }
                for (source, last) in listed { print(SyncJSON.source(source, lastRun: last)) }
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a source now and print the run's report as JSON; exits 1 when the run was refused or failed.")

        @Argument(help: "The source's id (sync list).") var id: Int64
        @Option(help: "The organization.") var org: String
        @Option(help: "The configuration file whose sync.* settings apply (timeouts, retries, pages); else CALLER_LOOKUP_CONFIG, else /etc/caller-lookup/caller-lookup.json when present.")
        var config: String?
        @OptionGroup var options: DataOptions
        @OptionGroup var plan: NumberPlanOptions

        func run() async throws {
            let id = self.id
            var run: SyncRun?
            try await handlingErrors {
                let configuration = try await ServeCommand.load(file: config)
                try plan.apply(configured: configuration.numberPlanFile)
                let settings = configuration.sync
                run = try await options.withStore(organization: org) { store, organization in
                    var logger = Logger(label: "caller-lookup.sync")
                    logger.logLevel = .error
                    return try await SyncRunner(store: store, settings: settings, logger: logger).runNow(sourceID: id, organizationID: organization.id)
                }
            }
            guard let run else { return }
            print(SyncJSON.run(run))
            if run.isFailure {
                printError("error: sync source \(id) \(run.outcome.rawValue): \(run.message)")
                throw ExitCode.failure
            }
        }
    }

    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A source's last runs, newest first, as JSON lines.")

        @Argument(help: "The source's id.") var id: Int64
        @Option(help: "The organization.") var org: String
        @OptionGroup var options: DataOptions

        func run() async throws {
            let id = self.id
            try await handlingErrors {
                let runs = try await options.withStore(organization: org) { store, organization in
                    guard try await store.syncSources(organizationID: organization.id).contains(where: { $0.id == id }) else {
                        throw ContactStoreError(.notFound, "The organization has no sync source \(id).")
                    }
                    return try await store.syncRuns(sourceID: id, organizationID: organization.id, limit: SyncRun.kept)
                }
                for run in runs { print(SyncJSON.run(run)) }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a source and its runs (a run in progress on a server imports nothing).")

        @Argument(help: "The source's id.") var id: Int64
        @Option(help: "The organization.") var org: String
        @OptionGroup var options: DataOptions

        func run() async throws {
            let id = self.id
            try await handlingErrors {
                let organization = try await options.withStore(organization: org) { store, organization in
                    try await store.removeSyncSource(id: id, organizationID: organization.id)
                    return organization
                }
                print("removed sync source \(id) of '\(organization.name)'")
            }
        }
    }
}

import UnixSignals
import ArgumentParser
import CallerService
import Configuration
import Foundation
import Hummingbird
import Logging
import PostgresEngine
import SQLiteEngine
import ServiceLifecycle
import StoreContract
import SystemPackage

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the contacts API and lookup service (HTTP).",
        discussion: "Settings come from the configuration file (--config FILE, else CALLER_LOOKUP_CONFIG, else /etc/caller-lookup/caller-lookup.json when it exists), then CALLER_LOOKUP_* environment variables, then these flags; see config/README.md.")

    @Option(help: "Address to listen on (http.host).") var host: String?
    @Option(help: "Port to listen on (http.port).") var port: Int?
    @Option(help: "Directory of the SQLite store (data.directory).") var data: String?
    @Option(help: "The store of record (store.url): sqlite:DIR or postgres://user@host:port/database.") var store: String?
    @Option(help: "A JSON configuration file.") var config: String?
    @Option(help: "Port of the read-only LDAP directory for desk phones (ldap.port); off when not given.") var ldapPort: Int?
    @Option(help: "Port of LDAPS (ldap.tlsport), with ldap.certificate and ldap.key.") var ldapsPort: Int?
    @OptionGroup var plan: NumberPlanOptions

    func run() async throws {
        var configuration: ServiceConfiguration
        do {
            configuration = try await Self.load(file: config, announce: true)
        } catch {
            printError("error: cannot read the configuration: \(error)")
            throw ExitCode.failure
        }
        try handlingErrors { try plan.apply(configured: configuration.numberPlanFile) }
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let data { configuration.dataDirectory = data }
        if let store { configuration.storeURL = store }
        if let ldapPort { configuration.ldapPort = ldapPort }
        if let ldapsPort { configuration.ldapTLSPort = ldapsPort }
        let logger = Logger(label: "caller-lookup")
        var services: [any Service] = []
        let recordStore: any RecordStore
        do {
            switch try DataOptions.location(data: configuration.dataDirectory, store: configuration.storeURL) {
            case .sqlite(let directory):
                do {
                    recordStore = SQLiteRecordStore(try SQLiteStore(directory: directory, existing: true))
                } catch let error as ContactStoreError where error.code == .notFound {
                    throw Failure(error.message)
                } catch {
                    throw Failure("Cannot open the store in '\(directory)': \(error)")
                }
                if configuration.indexDirectory == nil { configuration.indexDirectory = directory + "/indexes" }
            case .postgres(let url):
                let postgres = try await Self.openPostgres(url)
                services.append(PostgresPoolService(store: postgres))
                recordStore = postgres
            }
        } catch let failure as Failure {
            printError("error: \(failure)")
            throw ExitCode.failure
        }
        // A store without an organization (made by `migrate`) is served — one created later is
        // followed at once — but nobody can sign in to it yet: say so, and how to go on.
        if (try? await recordStore.committedOrganizations())?.isEmpty == true {
            printError(
                "warning: the store has no organization yet, so every request is refused (401); create one with "
                    + "caller-lookup org create NAME and a user with caller-lookup user add LOGIN --org NAME (this server serves them at once)")
        }
        let node = CallerNode(configuration: configuration, store: recordStore)
        // Shut down in reverse order: the follower first answers the mirrors' pending long polls,
        // then the server stops accepting and finishes what is in flight, then the store's
        // connections close.
        services += [node.application(), node.follower()]
        do {
            if let directory = try node.ldapServer() { services.append(directory) }
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
        // Last, so it stops first: a run in progress is stopped and imports nothing.
        if configuration.runsSyncSchedule { services.append(node.syncScheduler()) }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The PostgreSQL store at `url`, its schema checked: a node never migrates (`caller-lookup
    /// migrate` does, once, for every node) and refuses a schema older or newer than it knows.
    static func openPostgres(_ url: String) async throws -> PostgresStore {
        var logger = Logger(label: "caller-lookup.postgres")
        logger.logLevel = .warning
        let store = try PostgresStore(url: url, logger: logger)
        let (applied, known) = try await withThrowingTaskGroup(of: (Int, Int)?.self) { group in
            group.addTask {
                await store.run()
                return nil
            }
            defer { group.cancelAll() }
            do {
                return try await DataOptions.within(.seconds(10), "PostgreSQL at \(Redaction.redacted(url)) does not answer") { try await store.schemaVersion() }
            } catch let error as Failure {
                throw error
            } catch {
                throw Failure("PostgreSQL at \(Redaction.redacted(url)): \(Redaction.redacted(PostgresStore.describe(error)))")
            }
        }
        guard applied == known else {
            throw Failure(applied < known
                ? "The PostgreSQL store's schema is at version \(applied), this caller-lookup needs \(known): run caller-lookup migrate --store \(Redaction.redacted(url))"
                : "The PostgreSQL store's schema is at version \(applied), newer than this caller-lookup knows (\(known)): run the newer caller-lookup.")
        }
        // The check's pool is gone with its task: a fresh store for the node's pool service.
        return try PostgresStore(url: url, logger: logger)
    }

    /// The configuration file, wherever the process starts: `--config FILE`, else the file named
    /// by `CALLER_LOOKUP_CONFIG`, else `/etc/caller-lookup/caller-lookup.json` when it exists;
    /// `nil` when there is none (the defaults and `CALLER_LOOKUP_*` variables then).
    static let systemConfigurationFile = "/etc/caller-lookup/caller-lookup.json"

    static func configurationFile(_ flag: String?) -> (path: String, required: Bool)? {
        if let flag { return (flag, true) }
        if let named = ProcessInfo.processInfo.environment["CALLER_LOOKUP_CONFIG"], !named.isEmpty { return (named, true) }
        if FileManager.default.fileExists(atPath: systemConfigurationFile) { return (systemConfigurationFile, false) }
        return nil
    }

    /// Environment variables over the JSON file over `defaults`; says on standard error which file
    /// it read (a service set up without one runs on the defaults, and should know it).
    static func load(
        file: String?, defaults: ServiceConfiguration = ServiceConfiguration(), announce: Bool = false
    ) async throws -> ServiceConfiguration {
        var providers: [any ConfigProvider] = [EnvironmentVariablesProvider().prefixKeys(with: ["caller", "lookup"])]
        if let (path, required) = configurationFile(file) {
            guard !required || FileManager.default.fileExists(atPath: path) else { throw Failure("the configuration file '\(path)' does not exist") }
            providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(path), allowMissing: !required))
            if announce { printError("configuration: \(path), then CALLER_LOOKUP_* variables") }
        } else if announce {
            printError("configuration: no file (--config, CALLER_LOOKUP_CONFIG or \(systemConfigurationFile)); the defaults and CALLER_LOOKUP_* variables")
        }
        return ServiceConfiguration(config: ConfigReader(providers: providers), defaults: defaults)
    }
}

/// The PostgreSQL store's connection pool, run for as long as the node serves.
struct PostgresPoolService: Service {
    let store: PostgresStore

    func run() async throws {
        await cancelWhenGracefulShutdown { await store.run() }
    }
}

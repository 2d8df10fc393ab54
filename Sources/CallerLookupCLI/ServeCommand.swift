import ArgumentParser
import CallerService
import Configuration
import ContactStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SystemPackage

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the contacts API and lookup service (HTTP).",
        discussion: "Settings come from --config (default config/caller-lookup.json when present), then CALLER_LOOKUP_* environment variables, then these flags; see config/README.md.")

    @Option(help: "Address to listen on (http.host).") var host: String?
    @Option(help: "Port to listen on (http.port).") var port: Int?
    @Option(help: "Directory of the SQLite store (data.directory).") var data: String?
    @Option(help: "A JSON configuration file.") var config: String?

    func run() async throws {
        var configuration: ServiceConfiguration
        do {
            configuration = try await Self.load(file: config)
        } catch {
            printError("error: cannot read the configuration: \(error)")
            throw ExitCode.failure
        }
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let data { configuration.dataDirectory = data }
        let store: ContactStore
        do {
            store = try ContactStore(directory: configuration.dataDirectory)
        } catch {
            printError("error: cannot open the store in '\(configuration.dataDirectory)': \(error)")
            throw ExitCode.failure
        }
        let node = CallerNode(configuration: configuration, store: store)
        let logger = Logger(label: "caller-lookup")
        // Shut down in reverse order: the follower first answers the mirrors' pending long polls,
        // then the server stops accepting and finishes what is in flight.
        let group = ServiceGroup(
            configuration: .init(
                services: [node.application(), node.follower()], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    /// Environment variables over the JSON file over the defaults.
    static func load(file: String?) async throws -> ServiceConfiguration {
        let path = file ?? "config/caller-lookup.json"
        let fileProvider = try await FileProvider<JSONSnapshot>(filePath: FilePath(path), allowMissing: file == nil)
        let reader = ConfigReader(providers: [
            EnvironmentVariablesProvider().prefixKeys(with: ["caller", "lookup"]),
            fileProvider,
        ])
        return ServiceConfiguration(config: reader)
    }
}

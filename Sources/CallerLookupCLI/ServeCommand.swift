import ArgumentParser
import CallerService
import ContactStore
import Hummingbird

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the contacts API and lookup service (HTTP).")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @OptionGroup var options: DataOptions

    func run() async throws {
        let store: ContactStore
        do {
            store = try options.openStore()
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
        var configuration = ServiceConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.dataDirectory = options.data
        let app = buildApplication(configuration: configuration, store: store)
        try await app.runService()
    }
}


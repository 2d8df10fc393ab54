import UnixSignals
import ArgumentParser
import CallerService
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `caller-lookup mirror`: a lookup node that follows an API node's change feed (docs/operations.md).
struct MirrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Serve one organization's lookups from a copy that follows an API node over HTTP.",
        discussion: """
            The mirror follows with an access token of the organization (any scope; lookup is enough), \
            read from the environment variable CALLER_LOOKUP_TOKEN, or with a user's login: --login and \
            the password in CALLER_LOOKUP_PASSWORD. It answers the lookup routes (lookup, name, route, \
            the phonebooks), /health and /metrics with the same JSON as the API node, and keeps answering from its last \
            copy while the API is down. With --snapshot it keeps that copy in FILE and starts from it. \
            Settings come from the configuration file as for serve (--config FILE, else CALLER_LOOKUP_CONFIG, \
            else /etc/caller-lookup/caller-lookup.json), then CALLER_LOOKUP_* variables, then these flags.
            """)

    @Option(help: "The API node to follow, e.g. http://api.example:8080.") var from: String
    @Option(help: "A user of the organization to mirror (without it: CALLER_LOOKUP_TOKEN).") var login: String?
    @Option(help: "Address to listen on (http.host; default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (http.port; default 8081).") var port: Int?
    @Option(help: "A JSON configuration file, read as serve reads it.") var config: String?
    @Option(help: "Keep the mirror's state in this file and start from it.") var snapshot: String?
    @Option(help: "Seconds one change-feed request waits for a change.") var wait = 25
    @Option(help: "Port of the read-only LDAP directory (ldap.port); off when not given.") var ldapPort: Int?
    @Option(help: "Port of LDAPS (ldap.tlsport), with ldap.certificate and ldap.key.") var ldapsPort: Int?
    @OptionGroup var plan: NumberPlanOptions

    func validate() throws {
        guard from.hasPrefix("http://") || from.hasPrefix("https://") else {
            throw ValidationError("--from must be an http:// or https:// URL of an API node.")
        }
        guard (1...30).contains(wait) else { throw ValidationError("--wait must be 1 to 30 seconds.") }
    }

    func run() async throws {
        try handlingErrors { try plan.apply() }
        let environment = ProcessInfo.processInfo.environment
        let credentials: MirrorConfiguration.Credentials
        if let login {
            guard let password = environment["CALLER_LOOKUP_PASSWORD"], !password.isEmpty else {
                printError("error: set CALLER_LOOKUP_PASSWORD to the password of \(login).")
                throw ExitCode(64)
            }
            credentials = .login(login, password: password)
        } else {
            guard let token = environment["CALLER_LOOKUP_TOKEN"], !token.isEmpty else {
                printError("error: set CALLER_LOOKUP_TOKEN to an access token of the organization (caller-lookup token create --scope lookup), or give --login.")
                throw ExitCode(64)
            }
            credentials = .token(token)
        }
        var mirror = MirrorConfiguration(apiURL: from, credentials: credentials, snapshotPath: snapshot)
        mirror.longPollSeconds = wait
        var defaults = ServiceConfiguration()
        defaults.port = 8081
        var service: ServiceConfiguration
        do {
            service = try await ServeCommand.load(file: config, defaults: defaults, announce: true)
        } catch {
            printError("error: cannot read the configuration: \(error)")
            throw ExitCode.failure
        }
        if let host { service.host = host }
        if let port { service.port = port }
        if let ldapPort { service.ldapPort = ldapPort }
        if let ldapsPort { service.ldapTLSPort = ldapsPort }
        let node = MirrorNode(configuration: mirror)
        var logger = Logger(label: "caller-lookup.mirror")
        logger.logLevel = service.logLevel
        // Shut down in reverse order: the follower first (its long poll aborted, the snapshot file
        // written), then the HTTP application.
        var services: [any Service] = [buildMirrorApplication(node: node, configuration: service)]
        do {
            if let directory = try buildMirrorDirectory(node: node, configuration: service) { services.append(directory) }
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services + [node.follower()],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

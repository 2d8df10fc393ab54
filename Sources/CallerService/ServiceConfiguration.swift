import Configuration
import HummingbirdCore
import Hummingbird
import Logging

/// Everything `caller-lookup serve` can be told, with the defaults of SPEC §4 and §8. The keys are
/// documented in `config/README.md`.
public struct ServiceConfiguration: Sendable {
    /// `http.host`: address to listen on.
    public var host = "127.0.0.1"
    /// `http.port`.
    public var port = 8080
    /// `data.directory`: directory of the SQLite store.
    public var dataDirectory = "./data"
    /// `upload.limit`: the largest CSV file an upload accepts (SPEC §4: 20 MiB); larger answers 413.
    public var uploadLimit = 20 * 1024 * 1024
    /// `changes.waitlimit`: the longest a change-feed request may wait for a change.
    public var longPollLimitSeconds = 30
    /// `auth.cacheseconds`: how long verified credentials are remembered.
    public var credentialLifetimeSeconds = 60
    /// `auth.cachesize`: how many credentials are remembered at most.
    public var credentialCacheSize = 10_000
    /// `log.level`.
    public var logLevel = Logger.Level.info
    /// `http.idletimeout`: seconds a connection may send nothing before it is closed (a client
    /// that connects and stalls holds no more than this). Above the long-poll limit.
    public var idleTimeoutSeconds = 65

    public init() {}

    /// The defaults overridden by whatever `config` has.
    public init(config: ConfigReader) {
        let defaults = ServiceConfiguration()
        host = config.string(forKey: "http.host", default: defaults.host)
        port = config.int(forKey: "http.port", default: defaults.port)
        dataDirectory = config.string(forKey: "data.directory", default: defaults.dataDirectory)
        uploadLimit = config.int(forKey: "upload.limit", default: defaults.uploadLimit)
        longPollLimitSeconds = config.int(forKey: "changes.waitlimit", default: defaults.longPollLimitSeconds)
        credentialLifetimeSeconds = config.int(forKey: "auth.cacheseconds", default: defaults.credentialLifetimeSeconds)
        credentialCacheSize = config.int(forKey: "auth.cachesize", default: defaults.credentialCacheSize)
        idleTimeoutSeconds = config.int(forKey: "http.idletimeout", default: defaults.idleTimeoutSeconds)
        logLevel = Logger.Level(rawValue: config.string(forKey: "log.level", default: "info").lowercased()) ?? .info
    }
}

extension ServiceConfiguration {
    /// The HTTP/1 server with the idle timeout.
    var server: HTTPServerBuilder {
        .http1(configuration: .init(idleTimeout: .seconds(Int64(max(1, idleTimeoutSeconds)))))
    }
}

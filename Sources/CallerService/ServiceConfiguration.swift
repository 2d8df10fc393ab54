/// Everything `caller-lookup serve` can be told, with the defaults of SPEC §4 and §8.
public struct ServiceConfiguration: Sendable {
    /// Address to listen on.
    public var host = "127.0.0.1"
    public var port = 8080
    /// Directory of the SQLite store.
    public var dataDirectory = "./data"
    /// The largest CSV file an upload accepts (SPEC §4: 20 MiB); larger answers 413.
    public var uploadLimit = 20 * 1024 * 1024
    /// How long verified credentials are remembered before the password is checked again.
    public var credentialLifetimeSeconds = 60
    /// The longest a change-feed request may wait for a change (`wait=S` is capped to this).
    public var longPollLimitSeconds = 30
    /// How many credentials are remembered at most.
    public var credentialCacheSize = 10_000

    public init() {}
}

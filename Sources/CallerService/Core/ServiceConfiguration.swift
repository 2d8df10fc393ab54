public import Configuration
import Hummingbird
import HummingbirdCore
public import Logging

/// Everything `caller-lookup serve` can be told, with their defaults (config/README.md). The keys are
/// documented in `config/README.md`.
public struct ServiceConfiguration: Sendable {
    /// `http.host`: address to listen on.
    public var host = "127.0.0.1"
    /// `http.port`.
    public var port = 8080
    /// `data.directory`: directory of the SQLite store.
    public var dataDirectory = "./data"
    /// `store.url`: the store of record, `sqlite:DIR` or `postgres://user@host:port/database`.
    /// Unset: `sqlite:` and `data.directory`.
    public var storeURL: String?
    /// `upload.limit`: the largest CSV file an upload accepts (20 MiB); larger answers 413.
    public var uploadLimit = 20 * 1024 * 1024
    /// `changes.waitlimit`: the longest a change-feed request may wait for a change.
    public var longPollLimitSeconds = 30
    /// `auth.cacheseconds`: how long verified credentials are remembered.
    public var credentialLifetimeSeconds = 60
    /// `auth.cachesize`: how many credentials are remembered at most.
    public var credentialCacheSize = 10_000
    /// `auth.throttleseconds`: the first wait after three failed logins of one login; it doubles
    /// with each further failure, up to 30 times this.
    public var loginThrottleSeconds = 1.0
    /// `http.forwardedfor`: the client's address is the last one of `X-Forwarded-For` (set it only
    /// behind a proxy that sets that header, with the service listening on loopback).
    public var trustsForwardedFor = false
    /// `log.level`.
    public var logLevel = Logger.Level.info
    /// `metrics.token`: with `Authorization: Bearer` this token, `/metrics` also shows the
    /// per-organization series (names, contact counts, versions); without it only totals. Unset:
    /// never.
    public var metricsToken: String?
    /// `http.idletimeout`: seconds a connection may send nothing before it is closed (a client
    /// that connects and stalls holds no more than this). Above the long-poll limit.
    public var idleTimeoutSeconds = 65
    /// `http.headertimeout`: seconds from a request's first byte until its headers must be complete
    /// (else 408 and the connection is closed): a client trickling bytes cannot hold a connection.
    public var headerTimeoutSeconds = 20
    /// `http.bodytimeout`: seconds a request body may take, plus one per `http.minbodyrate` bytes
    /// received.
    public var bodyTimeoutSeconds = 20
    /// `http.minbodyrate`: bytes per second a body must keep up, on average, beyond the first
    /// `http.bodytimeout` seconds.
    public var minimumBodyRate = 500
    /// `http.publicurl`: the base URL clients reach this service at (`https://callers.example.com`),
    /// for the popup links in lookup answers. Unset: `http://` and the request's `Host`, or on a
    /// mirror the API's URL.
    public var publicURL: String?
    /// `admin.sessionhours`: the longest an admin-page session lasts.
    public var adminSessionHours = 12.0
    /// `admin.idleminutes`: an admin-page session unused this long ends.
    public var adminIdleMinutes = 30.0
    /// `popup.linkminutes`: how long the popup link of a lookup's answer opens the caller's page
    /// (a call and its wrap-up); it also ends when the credential that looked the caller up is
    /// revoked or removed, or the organization's link is rotated.
    public var popupLinkMinutes = 30.0
    /// The port of the read-only LDAP directory on `host`, for desk phones; off when `nil`.
    public var ldapPort: Int?
    /// The port of LDAPS (TLS from the first byte), with `ldapCertificate` and `ldapKey` (PEM files).
    public var ldapTLSPort: Int?
    public var ldapCertificate: String?
    public var ldapKey: String?
    /// The organization whose contacts an anonymous LDAP bind may read (phones that cannot bind);
    /// off (`nil`) by default: anonymous binds read the root DSE only.
    public var ldapAnonymousOrganization: String?
    /// Idle LDAP connections are closed after this many seconds.
    public var ldapIdleSeconds = 120
    /// `sync.*`: how CRM sync runs fetch (timeouts, retries, pages); `sync.schedule` = `false`
    /// keeps this node from running scheduled sources (runs by hand still work).
    public var sync = SyncSettings()
    public var runsSyncSchedule = true
    /// `numberplan.file`: the number plan file the process runs with; unset, the shipped one.
    public var numberPlanFile: String?
    /// `index.directory`: where the node keeps each organization's index file, so that a restart
    /// maps it instead of rebuilding from the store. Unset: `indexes` in the SQLite data
    /// directory, none with PostgreSQL; `none`: no files.
    public var indexDirectory: String?

    public init() {}

    /// `defaults` overridden by whatever `config` has.
    public init(config: ConfigReader, defaults: ServiceConfiguration = ServiceConfiguration()) {
        host = config.string(forKey: "http.host", default: defaults.host)
        port = config.int(forKey: "http.port", default: defaults.port)
        dataDirectory = config.string(forKey: "data.directory", default: defaults.dataDirectory)
        storeURL = config.string(forKey: "store.url").flatMap { $0.isEmpty ? nil : $0 }
        uploadLimit = config.int(forKey: "upload.limit", default: defaults.uploadLimit)
        longPollLimitSeconds = config.int(forKey: "changes.waitlimit", default: defaults.longPollLimitSeconds)
        credentialLifetimeSeconds = config.int(forKey: "auth.cacheseconds", default: defaults.credentialLifetimeSeconds)
        credentialCacheSize = config.int(forKey: "auth.cachesize", default: defaults.credentialCacheSize)
        loginThrottleSeconds = config.double(forKey: "auth.throttleseconds", default: defaults.loginThrottleSeconds)
        idleTimeoutSeconds = config.int(forKey: "http.idletimeout", default: defaults.idleTimeoutSeconds)
        headerTimeoutSeconds = config.int(forKey: "http.headertimeout", default: defaults.headerTimeoutSeconds)
        bodyTimeoutSeconds = config.int(forKey: "http.bodytimeout", default: defaults.bodyTimeoutSeconds)
        minimumBodyRate = config.int(forKey: "http.minbodyrate", default: defaults.minimumBodyRate)
        logLevel = Logger.Level(rawValue: config.string(forKey: "log.level", default: "info").lowercased()) ?? .info
        metricsToken = config.string(forKey: "metrics.token").flatMap { $0.isEmpty ? nil : $0 }
        adminSessionHours = max(0.01, config.double(forKey: "admin.sessionhours", default: defaults.adminSessionHours))
        adminIdleMinutes = max(0.1, config.double(forKey: "admin.idleminutes", default: defaults.adminIdleMinutes))
        popupLinkMinutes = max(1.0 / 60, config.double(forKey: "popup.linkminutes", default: defaults.popupLinkMinutes))
        ldapPort = config.int(forKey: "ldap.port")
        ldapTLSPort = config.int(forKey: "ldap.tlsport")
        ldapCertificate = config.string(forKey: "ldap.certificate").flatMap { $0.isEmpty ? nil : $0 }
        ldapKey = config.string(forKey: "ldap.key").flatMap { $0.isEmpty ? nil : $0 }
        ldapAnonymousOrganization = config.string(forKey: "ldap.anonymous").flatMap { $0.isEmpty ? nil : $0 }
        ldapIdleSeconds = max(1, config.int(forKey: "ldap.idleseconds", default: defaults.ldapIdleSeconds))
        sync.pageTimeout = .seconds(max(1, config.int(forKey: "sync.timeoutseconds", default: 60)))
        sync.connectTimeout = .seconds(max(1, config.int(forKey: "sync.connecttimeoutseconds", default: 10)))
        sync.retries = min(10, max(0, config.int(forKey: "sync.retries", default: defaults.sync.retries)))
        sync.maxPages = max(1, config.int(forKey: "sync.maxpages", default: defaults.sync.maxPages))
        sync.pageLimit = uploadLimit
        runsSyncSchedule = config.bool(forKey: "sync.schedule", default: true)
        numberPlanFile = config.string(forKey: "numberplan.file").flatMap { $0.isEmpty ? nil : $0 }
        indexDirectory = config.string(forKey: "index.directory").flatMap { $0.isEmpty ? nil : $0 }
        trustsForwardedFor = config.bool(forKey: "http.forwardedfor", default: defaults.trustsForwardedFor)
        publicURL = config.string(forKey: "http.publicurl").flatMap { $0.isEmpty ? nil : $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }
}

extension ServiceConfiguration {
    /// The HTTP/1 server with the idle timeout and the request deadlines.
    var server: HTTPServerBuilder {
        let deadlines = RequestDeadlines(
            headerSeconds: Int64(max(1, headerTimeoutSeconds)), bodySeconds: Int64(max(1, bodyTimeoutSeconds)),
            minimumBodyRate: Int64(max(1, minimumBodyRate)))
        return .http1(configuration: .init(
            additionalChannelHandlers: [deadlines.handler()],
            idleTimeout: .seconds(Int64(max(1, idleTimeoutSeconds)))))
    }
}

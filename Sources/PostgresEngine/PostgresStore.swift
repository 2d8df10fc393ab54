import Contacts
import Foundation
public import Logging
import NIOSSL
import PhoneNumbers
import PostgresNIO
public import StoreContract
import Synchronization

/// The store of record on PostgreSQL, for several API nodes sharing one server: the
/// SQLite store's contract — organizations, users, replace-all imports as one transaction with its
/// change-log entries and version bump, the change feed and full loads — on a server operators
/// already replicate, back up and fail over.
///
/// Every write of an organization first locks the organization's row (`SELECT … FOR UPDATE`), so
/// versions are allocated without races between nodes and the feed is gap-free and ordered. An
/// import is sent with `COPY … FROM STDIN` into a temporary table and applied as a diff in
/// set-based SQL: rows matched by `externalId` (else by identical values) keep their ids, only
/// real changes are written and logged.
///
/// Every commit is announced with `NOTIFY organization:version`; nodes `LISTEN` and also poll the
/// commit counter.
public final class PostgresStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// How long an operation waits for a connection before it is `ContactStoreError.unavailable`
    /// (a running query is never cut short).
    let patience: Duration
    /// The popup links' signing key, read (or created) once.
    let popupKey = Mutex<[UInt8]?>(nil)

    /// `postgres://user[:password]@host[:port]/database`; without a password in the URL,
    /// `PGPASSWORD`, else the first matching line of the password file (`PGPASSFILE`, default
    /// `~/.pgpass`, as libpq reads it), else none (`trust` authentication). Run `run()` beside the
    /// store's users.
    public init(url: String, patience: Duration = .seconds(5), logger: Logger = Logger(label: "caller-lookup.postgres")) throws {
        let settings = try Self.settings(url)
        self.settings = settings
        self.client = PostgresClient(configuration: settings.client, backgroundLogger: logger)
        self.logger = logger
        self.patience = patience
    }

    /// Where and how the store connects (for the diagnosis of a failed connection).
    let settings: ConnectionSettings

    /// What went wrong, for a person: PostgresNIO's errors keep their details (the server's
    /// message, the connection failure) out of their plain description.
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }

    /// Runs `body` on a connection of the pool. No connection within `patience`, or a connection
    /// lost, is `ContactStoreError.unavailable`: the server is down or unreachable, nothing was
    /// changed, and the caller may try again. A connection that closes while `body` runs ends it
    /// at once (`untilClosed`): PostgresNIO's `COPY`, and statements sent as the connection
    /// closes, would otherwise wait forever.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let leased = LeaseFlag()
        let (client, patience) = (self.client, self.patience)
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        leased.set()
                        // A statement on a connection that closes under it would wait forever.
                        return try await Self.untilClosed(connection) { try await body(connection) }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: patience)
                    // Leased in time: the work runs as long as it takes.
                    while leased.isSet { try await Task.sleep(for: .seconds(3600)) }
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let result = first else {
                    // The pool keeps retrying and does not say why: one direct connection does.
                    let cause = await settings.diagnose(logger: logger)
                    throw ContactStoreError(.unavailable, "PostgreSQL gave no connection within \(patience): \(cause); nothing was changed.")
                }
                return result
            }
        } catch let error as PSQLError where Self.isUnreachable(error) {
            throw ContactStoreError(.unavailable, "PostgreSQL is unreachable: \(Self.describe(error)); nothing was changed.")
        }
    }

    /// Runs `body` in a transaction; an error of `body` rolls it back and is rethrown as it was.
    /// (Not PostgresNIO's `withTransaction`: its `ROLLBACK` on a connection that died waits
    /// forever.)
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let logger = self.logger
        return try await withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// `work`, unless `connection` closes first: then `unavailable` at once, and `work` is left
    /// to end by itself (a `COPY` on a dead connection never does; it holds nothing but memory).
    static func untilClosed<T: Sendable>(_ connection: PostgresConnection, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let gate = ResumeOnce<T>()
        return try await withCheckedThrowingContinuation { continuation in
            gate.set(continuation)
            let task = Task {
                do { gate.resume(.success(try await work())) } catch { gate.resume(.failure(error)) }
            }
            connection.closeFuture.whenComplete { _ in
                gate.resume(.failure(ContactStoreError(.unavailable, "The connection to PostgreSQL was lost mid-operation; the server keeps all of it or none of it, never a part. Try again.")))
                task.cancel()
            }
        }
    }


    /// Every row of `query`, each made by `decode`, on a connection of the pool.
    func rows<T: Sendable>(_ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRow) throws -> T) async throws -> [T] {
        let logger = self.logger
        return try await withConnection { connection in
            var result: [T] = []
            for try await row in try await connection.query(query, logger: logger) { result.append(try decode(row)) }
            return result
        }
    }

    /// Whether the error means the server could not be reached or went away (rather than refused
    /// what was asked): connection failures, and the server shutting down or starting up.
    static func isUnreachable(_ error: PSQLError) -> Bool {
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57P")
        default:
            return false
        }
    }

    /// Runs the connection pool until the task is cancelled.
    public func run() async { await client.run() }

    static func configuration(_ url: String) throws -> PostgresClient.Configuration { try settings(url).client }

    static func settings(_ url: String) throws -> ConnectionSettings {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else {
            throw ContactStoreError(.invalidInput, "A PostgreSQL store URL is postgres://user@host:port/database (got '\(Redaction.redacted(String(url.prefix(80))))').")
        }
        let database = String(components.path.drop { $0 == "/" })
        let port = components.port ?? 5432
        let user = components.user ?? "postgres"
        let environment = ProcessInfo.processInfo.environment
        let passwordFile = environment["PGPASSFILE"] ?? (NSHomeDirectory() as NSString).appendingPathComponent(".pgpass")
        let password = components.password ?? environment["PGPASSWORD"]
            ?? (try? String(contentsOfFile: passwordFile, encoding: .utf8)).flatMap {
                PasswordFile.password(in: $0, host: host, port: port, database: database.isEmpty ? user : database, user: user)
            }
        let query = components.queryItems ?? []
        return ConnectionSettings(
            host: host, port: port, user: user, password: password, database: database.isEmpty ? nil : database,
            tls: try tls(query), hasRootCertificate: query.contains { $0.name == "sslrootcert" && !($0.value ?? "").isEmpty })
    }

    /// TLS as libpq's `sslmode` says (and the certificate check it makes, `nil` without TLS) (`?sslmode=…&sslrootcert=FILE` in the URL): `disable`;
    /// `allow` and `prefer` (the default) use TLS when the server offers it; `require` insists on
    /// it; neither checks the certificate, as libpq does not. `verify-ca` checks the certificate
    /// against `sslrootcert` (else the system's roots), `verify-full` also the host name.
    static func tls(_ query: [URLQueryItem]) throws -> (
        tls: PostgresClient.Configuration.TLS, verification: CertificateVerification?, direct: (TLSConfiguration, required: Bool)?
    ) {
        let mode = query.first { $0.name == "sslmode" }?.value ?? "prefer"
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let root = query.first(where: { $0.name == "sslrootcert" })?.value, !root.isEmpty {
            configuration.trustRoots = .file(root)
        }
        switch mode {
        case "disable":
            return (.disable, nil, nil)
        case "allow", "prefer":
            configuration.certificateVerification = .none
            return (.prefer(configuration), CertificateVerification.none, (configuration, false))
        case "require":
            configuration.certificateVerification = .none
            return (.require(configuration), CertificateVerification.none, (configuration, true))
        case "verify-ca":
            configuration.certificateVerification = .noHostnameVerification
            return (.require(configuration), .noHostnameVerification, (configuration, true))
        case "verify-full":
            return (.require(configuration), configuration.certificateVerification, (configuration, true))
        default:
            throw ContactStoreError(
                .invalidInput, "sslmode is disable, allow, prefer, require, verify-ca or verify-full (got '\(mode.prefix(20))').")
        }
    }

    // MARK: Schema

    /// Applies the migrations the database has not run, under an advisory lock (two nodes starting
    /// at once migrate once); refuses a database migrated by a newer build. Returns the version.
    @discardableResult
    public func migrate() async throws -> Int {
        let logger = self.logger
        return try await withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(4242001)", logger: logger)
            do {
                try await connection.query("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)", logger: logger)
                var applied = 0
                for try await version in try await connection.query("SELECT version FROM schema_version", logger: logger).decode(Int.self) {
                    applied = version
                }
                guard applied <= PostgresSchema.migrations.count else {
                    throw ContactStoreError(
                        .database,
                        "The store's schema is at version \(applied), newer than this caller-lookup knows (\(PostgresSchema.migrations.count)): run the caller-lookup that migrated it, or a newer one.")
                }
                if applied < PostgresSchema.migrations.count {
                    try await connection.withTransaction(logger: logger) { connection in
                        for migration in PostgresSchema.migrations.dropFirst(applied) {
                            for statement in migration {
                                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                            }
                        }
                        try await connection.query("DELETE FROM schema_version", logger: logger)
                        let version = PostgresSchema.migrations.count
                        try await connection.query("INSERT INTO schema_version (version) VALUES (\(version))", logger: logger)
                    }
                }
                try await connection.query("SELECT pg_advisory_unlock(4242001)", logger: logger)
                return PostgresSchema.migrations.count
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(4242001)", logger: logger)
                throw error
            }
        }
    }

    /// The database's schema version (0 before the first migration) and the newest this build
    /// knows.
    public func schemaVersion() async throws -> (store: Int, known: Int) {
        let exists = try await rows("SELECT to_regclass('schema_version') IS NOT NULL") { try $0.decode(Bool.self) }.first ?? false
        let applied = exists ? try await rows("SELECT version FROM schema_version") { try $0.decode(Int.self) }.first ?? 0 : 0
        return (applied, PostgresSchema.migrations.count)
    }

    // MARK: Organizations and users

    public func createOrganization(name: String, defaultRegion: String = "CZ", suffixDigits: Int = 9) async throws -> Organization {
        let (name, region, suffixDigits) = try OrganizationRules.checked(name: name, defaultRegion: defaultRegion, suffixDigits: suffixDigits)
        do {
            let ids = try await rows(
                "INSERT INTO organizations (name, default_region, suffix_digits) VALUES (\(name), \(region), \(suffixDigits)) RETURNING id"
            ) { try $0.decode(Int64.self) }
            if let id = ids.first { return Organization(id: id, name: name, defaultRegion: region, suffixDigits: suffixDigits, version: 0) }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw ContactStoreError(.organizationExists, "An organization named '\(name)' already exists.")
        }
        throw ContactStoreError(.database, "The organization was not created.")
    }

    /// Changes the default region and/or the suffix length of an organization (the rules of
    /// `createOrganization`); returns it before and after. Serving nodes rebuild its index and
    /// re-check the credentials that carry it.
    public func updateOrganization(id: Int64, defaultRegion: String?, suffixDigits: Int?) async throws -> (before: Organization, after: Organization) {
        guard let current = try await organization(id: id) else {
            throw ContactStoreError(.unknownOrganization, "Organization \(id) does not exist.")
        }
        let (_, region, digits) = try OrganizationRules.checked(
            name: current.name, defaultRegion: defaultRegion ?? current.defaultRegion, suffixDigits: suffixDigits ?? current.suffixDigits)
        let logger = self.logger
        try await transaction { connection in
            try await connection.query(
                "UPDATE organizations SET default_region = \(region), suffix_digits = \(digits) WHERE id = \(current.id)", logger: logger)
            try await Self.bumpCredentialsVersion(connection, logger: logger)
        }
        guard let updated = try await organization(id: current.id) else {
            throw ContactStoreError(.unknownOrganization, "Organization \(id) does not exist.")
        }
        return (current, updated)
    }

    public func organization(named name: String) async throws -> Organization? {
        try await organizations(where: "name = \(name)").first
    }

    public func organization(id: Int64) async throws -> Organization? {
        try await organizations(where: "id = \(id)").first
    }

    public func organizations() async throws -> [Organization] {
        try await organizations(where: "true")
    }

    private func organizations(where condition: PostgresQuery) async throws -> [Organization] {
        var query = PostgresQuery(unsafeSQL: "SELECT id, name, default_region, suffix_digits, version, labels FROM organizations WHERE ")
        query.sql += condition.sql
        query.binds = condition.binds
        query.sql += " ORDER BY id"
        return try await rows(query) { row in
            let (id, name, region, digits, version, labels) = try row.decode((Int64, String, String, Int, Int64, String).self)
            return Organization(
                id: id, name: name, defaultRegion: region, suffixDigits: digits, version: version, labels: FieldLabels.decode(labels))
        }
    }
}

/// A continuation resumed by whichever comes first.
private final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func set(_ continuation: CheckedContinuation<T, any Error>) { self.continuation.withLock { $0 = continuation } }

    func resume(_ result: Result<T, any Error>) {
        continuation.withLock { stored in defer { stored = nil }; return stored }?.resume(with: result)
    }
}

/// Whether an operation got its connection.
private final class LeaseFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// libpq's password file: lines `host:port:database:user:password`, `*` matching anything, `\:`
/// and `\\` escaped, `#` starting a comment; the first line that matches wins.
enum PasswordFile {
    static func password(in text: String, host: String, port: Int, database: String, user: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let fields = split(line)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    /// The colon-separated fields of a line, escapes resolved.
    static func split(_ line: Substring) -> [String] {
        var fields: [String] = [""]
        var escaped = false
        for character in line {
            if escaped {
                fields[fields.count - 1].append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" {
                fields.append("")
            } else {
                fields[fields.count - 1].append(character)
            }
        }
        return fields
    }
}

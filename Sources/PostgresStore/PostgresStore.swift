import ContactStore
import Contacts
import Foundation
import Logging
import PhoneNumbers
import PostgresNIO

/// The store of record on PostgreSQL, for several API nodes sharing one server (issue 18): the
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
/// Not yet here (the rest of issue 18): single-contact writes and batches, labels, tokens, popup
/// secrets, change-log compaction, `NOTIFY` of commits, and `serve --store postgres://…`.
public final class PostgresStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// `postgres://user[:password]@host[:port]/database`; without a password in the URL,
    /// `PGPASSWORD`, else the first matching line of the password file (`PGPASSFILE`, default
    /// `~/.pgpass`, as libpq reads it), else none (`trust` authentication). Run `run()` beside the
    /// store's users.
    public init(url: String, logger: Logger = Logger(label: "caller-lookup.postgres")) throws {
        self.client = PostgresClient(configuration: try Self.configuration(url), backgroundLogger: logger)
        self.logger = logger
    }

    /// What went wrong, for a person: PostgresNIO's errors keep their details (the server's
    /// message, the connection failure) out of their plain description.
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }

    /// Runs `body` in a transaction; an error of `body` rolls it back and is rethrown as it was
    /// (PostgresNIO wraps it in a `PostgresTransactionError`).
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> sending T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { try await body($0) }
        } catch let error as PostgresTransactionError where error.rollbackError == nil && error.closureError != nil {
            throw error.closureError!
        }
    }

    /// Runs the connection pool until the task is cancelled.
    public func run() async { await client.run() }

    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else {
            throw ContactStoreError(.invalidInput, "A PostgreSQL store URL is postgres://user@host:port/database (got '\(url.prefix(80))').")
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
        return PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database.isEmpty ? nil : database, tls: .disable)
    }

    // MARK: Schema

    /// Applies the migrations the database has not run, under an advisory lock (two nodes starting
    /// at once migrate once); refuses a database migrated by a newer build. Returns the version.
    @discardableResult
    public func migrate() async throws -> Int {
        try await client.withConnection { connection in
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

    // MARK: Organizations and users

    public func createOrganization(name: String, defaultRegion: String = "CZ", suffixDigits: Int = 9) async throws -> Organization {
        let (name, region, suffixDigits) = try OrganizationRules.checked(name: name, defaultRegion: defaultRegion, suffixDigits: suffixDigits)
        do {
            let rows = try await client.query(
                "INSERT INTO organizations (name, default_region, suffix_digits) VALUES (\(name), \(region), \(suffixDigits)) RETURNING id",
                logger: logger)
            for try await id in rows.decode(Int64.self) {
                return Organization(id: id, name: name, defaultRegion: region, suffixDigits: suffixDigits, version: 0)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw ContactStoreError(.organizationExists, "An organization named '\(name)' already exists.")
        }
        throw ContactStoreError(.database, "The organization was not created.")
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
        var result: [Organization] = []
        let rows = try await client.query(query, logger: logger)
        for try await (id, name, region, digits, version, labels) in rows.decode((Int64, String, String, Int, Int64, String).self) {
            result.append(Organization(
                id: id, name: name, defaultRegion: region, suffixDigits: digits, version: version, labels: FieldLabels.decode(labels)))
        }
        return result
    }

    /// Adds a user; the password is kept only as a yescrypt hash (the same as the SQLite store's).
    public func addUser(login: String, password: String, organizationID: Int64) async throws {
        let login = try UserRules.checked(login: login, password: password)
        guard let hash = PasswordHash.make(password) else {
            throw ContactStoreError(.database, "The system could not hash the password (no random source?).")
        }
        do {
            try await client.query(
                "INSERT INTO users (login, password_hash, organization_id) VALUES (\(login), \(hash), \(organizationID))", logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw ContactStoreError(.loginTaken, "The login '\(login)' is taken.")
        }
    }

    /// The organization of the user whose login and password these are, or `nil`. The hash is
    /// checked off the caller's task (yescrypt takes tens of milliseconds).
    public func authenticate(login: String, password: String) async throws -> Organization? {
        var stored: (hash: String, organizationID: Int64)?
        let rows = try await client.query("SELECT password_hash, organization_id FROM users WHERE login = \(login)", logger: logger)
        for try await row in rows.decode((String, Int64).self) { stored = (row.0, row.1) }
        let hash = stored?.hash ?? UserRules.decoyHash
        let matches = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: PasswordHash.verify(password, against: hash)) }
        }
        guard matches, let stored else { return nil }
        return try await organization(id: stored.organizationID)
    }
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

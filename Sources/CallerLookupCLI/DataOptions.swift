import ArgumentParser
import Contacts
import Foundation
import Logging
import PhoneNumbers
import PostgresEngine
import SQLiteEngine
import StoreContract

/// `--data DIR` or `--store URL`, shared by every subcommand that opens the store.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Directory of the SQLite store (the same as --store sqlite:DIR).")
    var data: String = "./data"

    @Option(
        name: .long,
        help: """
            The store: sqlite:DIR, or postgres://user@host:port/database (the password from PGPASSWORD; \
            trust and peer authentication need none). Every command but lookup and bench works on both.
            """)
    var store: String?

    /// Where the store is.
    enum Location {
        case sqlite(directory: String)
        case postgres(url: String)
    }

    func location() throws -> Location { try Self.location(data: data, store: store) }

    static func location(data: String, store: String?) throws -> Location {
        guard let store else { return .sqlite(directory: data) }
        if store.hasPrefix("sqlite:") { return .sqlite(directory: String(store.dropFirst("sqlite:".count))) }
        if store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") { return .postgres(url: store) }
        throw Failure("--store is sqlite:DIR or postgres://user@host:port/database (got '\(Redaction.redacted(String(store.prefix(80))))').")
    }

    /// The SQLite store (the only engine of most commands, for now).
    func openStore() throws -> SQLiteStore {
        guard case .sqlite(let directory) = try location() else {
            throw Failure("This command works on a SQLite store only (lookup and bench build an index of their own); run it with --data DIR.")
        }
        do {
            return try SQLiteStore(directory: directory)
        } catch {
            throw Failure("Cannot open the store in '\(directory)': \(error)")
        }
    }

    /// Runs `body` with the PostgreSQL store at `url`, migrated, its connections open meanwhile.
    /// A server that cannot be reached within 10 seconds is an error (the pool would keep trying).
    func withPostgres<T: Sendable>(_ url: String, _ body: @escaping @Sendable (PostgresStore) async throws -> T) async throws -> T {
        var logger = Logger(label: "caller-lookup.postgres")
        logger.logLevel = .critical
        let store = try PostgresStore(url: url, logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await store.run()
                return nil
            }
            defer { group.cancelAll() }
            do {
                _ = try await Self.within(.seconds(10), "PostgreSQL at \(Redaction.redacted(url)) does not answer") { try await store.migrate() }
                return try await body(store)
            } catch let error as ContactStoreError {
                throw error
            } catch let error as ImportRejection {
                throw error
            } catch let error as Failure {
                throw error
            } catch {
                throw Failure("PostgreSQL at \(Redaction.redacted(url)): \(Redaction.redacted(PostgresStore.describe(error)))")
            }
        }
    }

    /// `work`, or the failure `message` once `limit` passed without its answer.
    static func within<T: Sendable>(_ limit: Duration, _ message: String, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else { throw Failure(message + " (waited \(limit)).") }
            return result
        }
    }

    /// The organization named `name` in the PostgreSQL store.
    static func organization(named name: String, in store: PostgresStore) async throws -> Organization {
        guard let organization = try await store.organization(named: name) else {
            throw Failure("No organization named '\(name)'. Create it with: caller-lookup org create '\(name)'")
        }
        return organization
    }

    /// Runs `body` with the store, whichever engine, and the organization named `name` in it.
    func withStore<T: Sendable>(
        organization name: String, _ body: @escaping @Sendable (any RecordStore, Organization) async throws -> T
    ) async throws -> T {
        switch try location() {
        case .sqlite:
            let (store, organization) = try open(organization: name)
            return try await body(SQLiteRecordStore(store), organization)
        case .postgres(let url):
            return try await withPostgres(url) { store in try await body(store, try await Self.organization(named: name, in: store)) }
        }
    }

    /// The store and the organization named `name` in it.
    func open(organization name: String) throws -> (SQLiteStore, Organization) {
        let store = try openStore()
        return (store, try organization(named: name, in: store))
    }

    func organization(named name: String, in store: SQLiteStore) throws -> Organization {
        guard let organization = try store.organization(named: name) else {
            throw Failure("No organization named '\(name)'. Create it with: caller-lookup org create '\(name)'")
        }
        return organization
    }
}

/// A handled error: its message goes to stderr and the exit status is 1, without a stack trace.
struct Failure: Error, CustomStringConvertible {
    let description: String

    init(_ message: String) { description = message }
}

/// `handlingErrors` for async work.
func handlingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}

/// Runs `body`, turning any error into a message on stderr and exit status 1.
func handlingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}

func printError(_ message: String) {
    // Whatever a message quotes (a store URL, an API URL, an error of a driver), no password.
    FileHandle.standardError.write(Data((Redaction.redacted(message) + "\n").utf8))
}

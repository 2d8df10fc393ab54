import Contacts
import Foundation
import PhoneNumbers
public import StoreContract
import ThreadSupport

/// The store of record: organizations, users, contacts and each organization's change log, in one
/// SQLite file (WAL mode).
///
/// Every write is one transaction that changes contacts, appends the changes to the change log and
/// bumps the organization's version together, so a follower reading the log after version V sees
/// exactly the writes that committed after V.
///
/// Four connections: the writer (every write, and the reads that belong to a write), two
/// read-only readers for everything else — logins, full loads, change batches, pages, the
/// organizations — and one that only answers `commitCounter`. In WAL mode a reader works from the
/// last committed state while an import holds the writer for seconds, so a long import never holds
/// up a login, a follower, a feed request or a warm start. The lookup path never reads from here.
///
/// From async code, `write` and `read` run the work on the store's own threads (one writer, two
/// readers, each with a connection free for it), so a request task never blocks on SQLite or on an
/// import's transaction. The synchronous methods are for those threads and for the command line.
public final class SQLiteStore: @unchecked Sendable {
    // @unchecked: `database` is only touched under `lock`, `counter` under `counterLock`; a reader connection only by the one
    // that took it from `readers`.
    private let database: SQLiteDatabase
    private let lock = NSLock()
    private let readers: ConnectionPool
    private let counter: SQLiteDatabase
    private let counterLock = NSLock()
    private let writerThread = WorkerThreads(name: "store writer", count: 1, niceness: 10)
    private let readerThreads = WorkerThreads(name: "store reader", count: ConnectionPool.size)
    /// How long a write waits for another process's write lock, by default.
    public static let defaultBusyTimeoutMilliseconds: Int32 = 10_000
    /// The popup links' HMAC key, from `settings`.
    let popupSecret: [UInt8]
    /// Where the database file is.
    public let path: String

    /// Opens (creating if needed) `directory/caller-lookup.sqlite` and runs pending migrations;
    /// refuses a store whose schema is newer than this build knows. `busyTimeoutMilliseconds`: how
    /// long a write waits for another process's write lock (a CLI import) before it fails as
    /// unavailable.
    ///
    /// `existing`: open only a store that is there (`serve`): a data directory without one — a
    /// mistyped `--data` — is refused, saying how to make one, instead of serving a new empty store
    /// that answers 401 to everyone.
    public init(
        directory: String, busyTimeoutMilliseconds: Int32 = SQLiteStore.defaultBusyTimeoutMilliseconds, existing: Bool = false
    ) throws {
        let path = Self.databasePath(in: directory)
        let missing = ContactStoreError(
            .notFound,
            "There is no store in '\(directory)': make one with caller-lookup org create NAME --data '\(directory)', or --data (data.directory) names the wrong directory.")
        if existing, !FileManager.default.fileExists(atPath: directory) { throw missing }
        try PrivateFiles.prepareDirectory(directory)
        if existing, !FileManager.default.fileExists(atPath: path) { throw missing }
        try PrivateFiles.prepareDatabase(path)
        let database = try SQLiteDatabase(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        try database.execute("PRAGMA journal_mode = WAL")
        try database.execute("PRAGMA synchronous = NORMAL")
        try database.execute("PRAGMA foreign_keys = ON")
        // A 20 MB import touches tens of megabytes of pages; with SQLite's default 2 MB cache the
        // transaction spills to the WAL mid-way and re-reads index pages.
        try database.execute("PRAGMA cache_size = -65536")
        try database.execute("PRAGMA temp_store = MEMORY")
        // After a large import the WAL is cut back to 64 MB once checkpointed, not kept at its peak.
        try database.execute("PRAGMA journal_size_limit = 67108864")
        try Schema.migrate(database)
        self.popupSecret = try Self.popupSecret(in: database)
        // The secret's SELECT must not stay open: a stepped, unreset statement keeps a read
        // transaction on the writer connection, and once another process (a CLI command) commits,
        // this connection's first write fails at once with "database is locked".
        Self.release(database)
        self.readers = try ConnectionPool((0..<ConnectionPool.size).map { _ in
            let reader = try SQLiteDatabase(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            try reader.execute("PRAGMA query_only = ON")
            try reader.execute("PRAGMA cache_size = -16384")
            return reader
        })
        self.counter = try SQLiteDatabase(path: path)
        try counter.execute("PRAGMA query_only = ON")
        try counter.execute("PRAGMA cache_size = 16")
        self.path = path
        self.database = database
    }

    /// Runs `work` on the store's writer thread: writes, and reads that belong to a write.
    public func write<T: Sendable>(_ work: @escaping @Sendable (SQLiteStore) throws -> T) async throws -> T {
        try await writerThread.run { try work(self) }
    }

    /// Runs `work` on one of the store's reader threads: reads only (the public reading methods
    /// use a reader connection; calling a write from here would wait behind the writer).
    public func read<T: Sendable>(_ work: @escaping @Sendable (SQLiteStore) throws -> T) async throws -> T {
        try await readerThreads.run { try work(self) }
    }

    /// Runs `body` on the writer connection.
    func withDatabase<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        lock.lock()
        defer {
            Self.release(database)
            lock.unlock()
        }
        return try body(database)
    }

    /// Runs `body` on a free reader connection (see the type's comment); reads only.
    func withReader<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        let reader = readers.take()
        defer {
            Self.release(reader)
            readers.give(reader)
        }
        return try body(reader)
    }

    private static func release(_ connection: SQLiteDatabase) {
        // A stepped but unreset SELECT keeps its read snapshot open: this connection would no
        // longer see what another process (a CLI import beside a running server) commits.
        connection.resetStatements()
    }

    /// A number that changes whenever any connection — this process's writer or another process,
    /// such as a CLI import — commits to the database (`PRAGMA data_version` on the reader). One
    /// page-cache read: followers poll it to notice other writers' commits cheaply.
    public func commitCounter() throws -> Int64 {
        // `data_version` counts the commits of other connections than the one asked, so it is
        // always asked on the same one, which never writes.
        try counterLock.withLock {
            defer { counter.resetStatements() }
            let statement = try counter.statement("PRAGMA data_version")
            return try statement.step() ? statement.int64(0) : 0
        }
    }

    /// The schema version of the store (how many migrations it has run) and the newest this build
    /// knows: equal once a store is open.
    /// The database file of the store in `directory`.
    static func databasePath(in directory: String) -> String {
        (directory as NSString).appendingPathComponent("caller-lookup.sqlite")
    }

    /// The schema version of the store in `directory` as it is, without opening (and so migrating)
    /// it; `nil` when there is no store there.
    public static func schemaVersion(ofStoreIn directory: String) throws -> Int? {
        let path = databasePath(in: directory)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try Schema.appliedVersion(try SQLiteDatabase(path: path, readOnly: true))
    }

    public func schemaVersion() throws -> (store: Int, known: Int) {
        try withReader { (try Schema.appliedVersion($0), Schema.migrations.count) }
    }

    /// Every organization, as committed now, read on the reader connection.
    public func committedOrganizations() throws -> [Organization] {
        try withReader { try Self.organizations(in: $0) }
    }
}

/// The store's read-only connections; `take` waits while all are in use.
private final class ConnectionPool: @unchecked Sendable {
    // @unchecked: `free` is only touched under `condition`.
    static let size = 2
    private let condition = NSCondition()
    private var free: [SQLiteDatabase]

    init(_ connections: [SQLiteDatabase]) { free = connections }

    func take() -> SQLiteDatabase {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty { condition.wait() }
        return free.removeLast()
    }

    func give(_ connection: SQLiteDatabase) {
        condition.lock()
        free.append(connection)
        condition.signal()
        condition.unlock()
    }
}

import Contacts
import Foundation
import PhoneNumbers

/// The store of record: organizations, users, contacts and each organization's change log, in one
/// SQLite file (WAL mode).
///
/// Every write is one transaction that changes contacts, appends the changes to the change log and
/// bumps the organization's version together, so a follower reading the log after version V sees
/// exactly the writes that committed after V.
///
/// Two connections, each serialized by its own mutex: the writer (every write, and reads that
/// belong to a write) and a reader for what followers and the change feed read — full loads,
/// change batches, the organizations' versions. In WAL mode the reader works from the last
/// committed state while an import holds the writer for seconds, so a long import never holds up a
/// follower, a feed request or a warm start. The lookup path never reads from here.
public final class ContactStore: @unchecked Sendable {
    // @unchecked: `database` is only touched under `lock`, `reader` only under `readerLock`.
    private let database: SQLiteDatabase
    private let lock = NSLock()
    private let reader: SQLiteDatabase
    private let readerLock = NSLock()
    /// The popup links' HMAC key, read from `settings` once (under `lock`).
    var popupSecret: [UInt8]?
    /// Where the database file is.
    public let path: String

    /// Opens (creating if needed) `directory/caller-lookup.sqlite` and runs pending migrations.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("caller-lookup.sqlite")
        let database = try SQLiteDatabase(path: path)
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
        let reader = try SQLiteDatabase(path: path)
        try reader.execute("PRAGMA query_only = ON")
        try reader.execute("PRAGMA cache_size = -16384")
        self.path = path
        self.database = database
        self.reader = reader
    }

    /// Runs `body` on the writer connection.
    func withDatabase<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        try Self.using(database, lock, body)
    }

    /// Runs `body` on the reader connection (see the type's comment); reads only.
    func withReader<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        try Self.using(reader, readerLock, body)
    }

    private static func using<T>(_ connection: SQLiteDatabase, _ lock: NSLock, _ body: (SQLiteDatabase) throws -> T) throws -> T {
        lock.lock()
        defer {
            // A stepped but unreset SELECT keeps its read snapshot open: this connection would no
            // longer see what another process (a CLI import beside a running server) commits.
            connection.resetStatements()
            lock.unlock()
        }
        return try body(connection)
    }

    /// A number that changes whenever any connection — this process's writer or another process,
    /// such as a CLI import — commits to the database (`PRAGMA data_version` on the reader). One
    /// page-cache read: followers poll it to notice other writers' commits cheaply.
    public func commitCounter() throws -> Int64 {
        try withReader { reader in
            let statement = try reader.statement("PRAGMA data_version")
            return try statement.step() ? statement.int64(0) : 0
        }
    }

    /// Every organization, as committed now, read on the reader connection.
    public func committedOrganizations() throws -> [Organization] {
        try withReader { try Self.organizations(in: $0) }
    }
}

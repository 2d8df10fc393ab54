import CSQLite
import StoreContract

/// An error from SQLite, with the statement it came from.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let sql: String?

    public var description: String {
        "SQLite error \(code): \(message)" + (sql.map { " (in: \($0.prefix(120)))" } ?? "")
    }

    /// A UNIQUE constraint failed (SQLITE_CONSTRAINT_UNIQUE).
    var isUniqueViolation: Bool { code == 2067 }

    /// The store could not be used just now, through no fault of the request: another writer held
    /// it past the busy timeout, or the disk failed or is full. Nothing was changed; the same
    /// request may succeed later.
    public var isUnavailable: Bool {
        // SQLITE_BUSY, _LOCKED, _NOMEM, _IOERR, _FULL, _CANTOPEN, _PROTOCOL (extended codes carry
        // the primary code in the low byte).
        [5, 6, 7, 10, 13, 14, 15].contains(code & 0xFF)
    }
}

/// SQLite's "transient" destructor: SQLite copies a bound value before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection with a cache of prepared statements.
///
/// Not thread-safe by itself: `SQLiteStore` is its only owner and serializes every use.
final class SQLiteDatabase {
    private let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]

    /// Configures the library once, before any connection exists.
    private static let configured: Void = { _ = csqlite_disable_memory_statistics() }()

    /// `busyTimeoutMilliseconds`: how long the connection waits for another writer's lock before
    /// an operation fails with SQLITE_BUSY (answered 503).
    init(path: String, busyTimeoutMilliseconds: Int32 = SQLiteStore.defaultBusyTimeoutMilliseconds, readOnly: Bool = false) throws {
        Self.configured
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw SQLiteError(code: code, message: "\(message): \(path)", sql: nil)
        }
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &error)
        if code != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw SQLiteError(code: code, message: message, sql: sql)
        }
    }

    /// Hands back the page cache's unused pages (after a whole-table pass: an import, a full
    /// load), so the connection's cache does not stay filled by rows no one reads again.
    func releaseCache() {
        _ = sqlite3_db_release_memory(handle)
    }

    /// Resets every cached statement, ending the read transaction a half-read query holds.
    func resetStatements() {
        for statement in statements.values { statement.reset() }
    }

    /// A prepared statement for `sql`, compiled once per connection and reset before reuse.
    func statement(_ sql: String) throws -> SQLiteStatement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard code == SQLITE_OK, let raw else {
            throw SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
        }
        let statement = SQLiteStatement(raw, database: self, sql: sql)
        statements[sql] = statement
        return statement
    }

    /// Runs `body` in a transaction that takes the write lock at once (`BEGIN IMMEDIATE`), so two
    /// writers never deadlock upgrading a read lock; rolls back when `body` throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            // A statement still holding a row keeps this connection's read snapshot from before the
            // transaction: the checkpoint that runs on COMMIT could then copy nothing back, and
            // the WAL would grow with every write (found by scripts/reliability/soak.sh).
            resetStatements()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    var changes: Int { Int(sqlite3_changes(handle)) }

    func error(_ code: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }
}

/// A prepared statement. Parameters are 1-based, columns 0-based, as in SQLite.
final class SQLiteStatement {
    private let raw: OpaquePointer
    private unowned let database: SQLiteDatabase
    let sql: String

    fileprivate init(_ raw: OpaquePointer, database: SQLiteDatabase, sql: String) {
        self.raw = raw
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(raw) }

    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(raw, index, value)
    }

    func bind(_ index: Int32, _ value: String) {
        var value = value
        value.withUTF8 { bytes in
            if let base = bytes.baseAddress {
                sqlite3_bind_text(raw, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(bytes.count), transient)
            } else {
                // An empty buffer may have no address; a null pointer would bind NULL, not ''.
                sqlite3_bind_text(raw, index, "", 0, transient)
            }
        }
    }

    func bind(_ index: Int32, _ value: String?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(raw, index) }
    }

    /// Binds the values in order from parameter 1.
    @discardableResult
    func binding(_ values: [SQLiteValue]) -> SQLiteStatement {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .integer(let number): bind(index, number)
            case .real(let number): sqlite3_bind_double(raw, index, number)
            case .text(let text): bind(index, text)
            case .null: sqlite3_bind_null(raw, index)
            }
        }
        return self
    }

    /// Advances to the next row; `false` when done.
    func step() throws -> Bool {
        let code = sqlite3_step(raw)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.error(code, sql: sql)
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws {
        while try step() {}
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(raw, column) }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(raw, column) == SQLITE_NULL }

    func string(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(raw, column) else { return "" }
        let count = Int(sqlite3_column_bytes(raw, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }
}

enum SQLiteValue {
    case integer(Int64)
    case real(Double)
    case text(String)
    case null
}

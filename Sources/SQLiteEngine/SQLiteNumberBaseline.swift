package import PhoneNumbers
import StoreContract

/// The benchmark's SQL baseline: what a PBX admin would wire up — a table of (number, contact id)
/// with an index, queried by a prepared, cached `SELECT`. Lives beside the store so it uses the
/// same SQLite wrapper; only `caller-lookup bench` uses it.
package final class SQLiteNumberBaseline {
    private let database: SQLiteDatabase

    /// Loads `numbers` (E.164 text → contact id) into a fresh database at `path`.
    package init(path: String, numbers: [(PhoneNumber, Int64)]) throws {
        database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF")
        try database.execute("CREATE TABLE numbers (e164 TEXT NOT NULL, contact_id INTEGER NOT NULL)")
        try database.transaction {
            let insert = try database.statement("INSERT INTO numbers (e164, contact_id) VALUES (?, ?)")
            for (number, id) in numbers {
                insert.reset()
                insert.binding([.text(number.e164), .integer(id)])
                try insert.run()
            }
        }
        try database.execute("CREATE INDEX numbers_e164 ON numbers(e164)")
    }

    /// The ids of contacts with `e164`, as the prepared statement returns them.
    package func contactIDs(e164: String) throws -> Int {
        let statement = try database.statement("SELECT contact_id FROM numbers WHERE e164 = ?")
        statement.bind(1, e164)
        var count = 0
        while try statement.step() { count += 1 }
        return count
    }
}

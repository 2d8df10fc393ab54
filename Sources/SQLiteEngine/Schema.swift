import Contacts
import StoreContract

/// The store's schema as numbered migrations; `PRAGMA user_version` records how many ran.
///
/// The schema enforces the data: foreign keys, one login per user, one `externalId` per
/// organization, a change log keyed by (organization, version, contact). Migrations are only ever
/// appended.
enum Schema {
    static let contactColumns = ContactField.allCases.map { "\"\($0.rawValue)\"" }

    static let migrations: [String] = [
        """
        CREATE TABLE organizations (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
            default_region TEXT NOT NULL CHECK (length(default_region) = 2),
            suffix_digits INTEGER NOT NULL DEFAULT 9 CHECK (suffix_digits BETWEEN 4 AND 15),
            version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0)
        );
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            login TEXT NOT NULL UNIQUE CHECK (length(login) BETWEEN 1 AND 255),
            password_hash TEXT NOT NULL,
            organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE
        );
        CREATE INDEX users_organization ON users(organization_id);
        CREATE TABLE contacts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
        \(contactColumns.map { "    \($0) TEXT NOT NULL DEFAULT ''" }.joined(separator: ",\n")),
            CHECK ("phone1" LIKE '+%'),
            CHECK ("firstName" <> '' OR "lastName" <> '' OR "organization" <> '')
        );
        CREATE INDEX contacts_organization ON contacts(organization_id, id);
        CREATE UNIQUE INDEX contacts_external_id ON contacts(organization_id, "externalId") WHERE "externalId" <> '';
        CREATE INDEX contacts_phone1 ON contacts(organization_id, "phone1");
        CREATE INDEX contacts_phone2 ON contacts(organization_id, "phone2") WHERE "phone2" <> '';
        CREATE TABLE changes (
            organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            contact_id INTEGER NOT NULL,
            op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
            PRIMARY KEY (organization_id, version, contact_id)
        ) WITHOUT ROWID;
        """,
        // Lookups are answered by the in-memory index, never by SQL on phone numbers: the two phone
        // indexes only made every write slower (a fifth of an import's pages).
        """
        DROP INDEX contacts_phone1;
        DROP INDEX contacts_phone2;
        """,
        // Field labels per organization (a JSON object), the popup link's revocation epoch, and
        // the server's own secrets (the popup links' HMAC key).
        """
        ALTER TABLE organizations ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE organizations ADD COLUMN popup_epoch INTEGER NOT NULL DEFAULT 1 CHECK (popup_epoch >= 1);
        CREATE TABLE settings (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        """,
        // Where each organization's change log starts since it was compacted: a follower behind
        // it is told to resync.
        """
        ALTER TABLE organizations ADD COLUMN log_start INTEGER NOT NULL DEFAULT 0 CHECK (log_start >= 0);
        """,
        // Label changes are logged like contacts' (contact id 0), so every follower applies them in
        // order. SQLite cannot alter a CHECK: the table is rebuilt.
        """
        CREATE TABLE changes_v5 (
            organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            contact_id INTEGER NOT NULL,
            op TEXT NOT NULL CHECK (op IN ('upsert', 'delete', 'labels')),
            PRIMARY KEY (organization_id, version, contact_id)
        ) WITHOUT ROWID;
        INSERT INTO changes_v5 SELECT organization_id, version, contact_id, op FROM changes;
        DROP TABLE changes;
        ALTER TABLE changes_v5 RENAME TO changes;
        """,
        // Contact ids per organization (1, 2, 3 … in each), so no tenant can count another's
        // writes from the gaps in its own ids. Existing contacts keep their ids; each
        // organization's counter starts above every id its contacts and change log ever used.
        """
        CREATE TABLE contacts_v6 (
            organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            id INTEGER NOT NULL CHECK (id > 0),
            version INTEGER NOT NULL,
        \(contactColumns.map { "    \($0) TEXT NOT NULL DEFAULT ''" }.joined(separator: ",\n")),
            CHECK ("phone1" LIKE '+%'),
            CHECK ("firstName" <> '' OR "lastName" <> '' OR "organization" <> ''),
            UNIQUE (organization_id, id)
        );
        INSERT INTO contacts_v6 (organization_id, id, version, \(contactColumns.joined(separator: ", ")))
            SELECT organization_id, id, version, \(contactColumns.joined(separator: ", ")) FROM contacts ORDER BY id;
        DROP TABLE contacts;
        ALTER TABLE contacts_v6 RENAME TO contacts;
        CREATE UNIQUE INDEX contacts_external_id ON contacts(organization_id, "externalId") WHERE "externalId" <> '';
        ALTER TABLE organizations ADD COLUMN next_contact_id INTEGER NOT NULL DEFAULT 1 CHECK (next_contact_id >= 1);
        UPDATE organizations SET next_contact_id = 1 + max(
            coalesce((SELECT max(id) FROM contacts WHERE contacts.organization_id = organizations.id), 0),
            coalesce((SELECT max(contact_id) FROM changes WHERE changes.organization_id = organizations.id), 0));
        """,
        // Scoped access tokens (what PBX configurations hold instead of a user's password): stored
        // as SHA-256 of the token, numbered per organization, revoked by time and never deleted
        // (an id is never reused). `credentials-version` moves with every revocation, so every
        // process on the store forgets what it remembered.
        """
        CREATE TABLE tokens (
            organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            id INTEGER NOT NULL CHECK (id > 0),
            scope TEXT NOT NULL CHECK (scope IN ('lookup', 'write', 'admin')),
            label TEXT NOT NULL DEFAULT '' CHECK (length(label) <= 100),
            prefix TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
            created_at INTEGER NOT NULL,
            revoked_at INTEGER,
            PRIMARY KEY (organization_id, id)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO settings (key, value) VALUES ('credentials-version', 0);
        """,
        // Roles for users: every user before them could do everything, so they become
        // admins. The session epoch ends a user's admin-page sessions (sign-out, a new password).
        """
        ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('reader', 'editor', 'admin'));
        ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 1;
        """,
        // CRM sync sources (their definition as JSON, header secrets included: the file is the
        // owner's alone) and their last runs. A run is claimed by a lease: one holder at a time,
        // one scheduled run per slot (`last_slot`).
        """
        CREATE TABLE sync_sources (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            definition TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            lease_holder TEXT,
            lease_until REAL,
            last_slot INTEGER NOT NULL DEFAULT -1,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE sync_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            source_id INTEGER NOT NULL REFERENCES sync_sources(id) ON DELETE CASCADE,
            run TEXT NOT NULL
        );
        CREATE INDEX sync_runs_by_source ON sync_runs (source_id, id);
        """,
    ]

    static func appliedVersion(_ database: SQLiteDatabase) throws -> Int {
        let statement = try database.statement("PRAGMA user_version")
        defer { statement.reset() }
        _ = try statement.step()
        return Int(statement.int64(0))
    }

    /// Runs the migrations the store has not run, in one transaction. A store newer than this
    /// build (a newer caller-lookup migrated it) is refused: running on a schema it does not know
    /// could lose what the newer version keeps.
    static func migrate(_ database: SQLiteDatabase) throws {
        let applied = try appliedVersion(database)
        guard applied <= migrations.count else {
            throw ContactStoreError(
                .database,
                "The store's schema is at version \(applied), newer than this caller-lookup knows (\(migrations.count)): run the caller-lookup that migrated it, or a newer one.")
        }
        guard applied < migrations.count else { return }
        try database.transaction {
            for (number, sql) in migrations.enumerated().dropFirst(applied) {
                try database.execute(sql)
                try database.execute("PRAGMA user_version = \(number + 1)")
            }
        }
    }
}

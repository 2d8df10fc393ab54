import Contacts
import StoreContract

/// The PostgreSQL schema as numbered migrations (each a list of statements, run in one
/// transaction); `schema_version` records how many ran. The same guarantees as the SQLite schema:
/// foreign keys, one login per user, one `externalId` per organization, contact ids per
/// organization, a change log keyed by (organization, version, contact). Only ever appended.
enum PostgresSchema {
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE organizations (
                id bigserial PRIMARY KEY,
                name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
                default_region text NOT NULL CHECK (length(default_region) = 2),
                suffix_digits integer NOT NULL DEFAULT 9 CHECK (suffix_digits BETWEEN 4 AND 15),
                version bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
                labels text NOT NULL DEFAULT '{}',
                popup_epoch bigint NOT NULL DEFAULT 1 CHECK (popup_epoch >= 1),
                log_start bigint NOT NULL DEFAULT 0 CHECK (log_start >= 0),
                next_contact_id bigint NOT NULL DEFAULT 1 CHECK (next_contact_id >= 1)
            )
            """,
            """
            CREATE TABLE users (
                id bigserial PRIMARY KEY,
                login text NOT NULL UNIQUE CHECK (length(login) BETWEEN 1 AND 255),
                password_hash text NOT NULL,
                organization_id bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX users_organization ON users(organization_id)",
            """
            CREATE TABLE contacts (
                organization_id bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                id bigint NOT NULL CHECK (id > 0),
                version bigint NOT NULL,
                \(ContactField.allCases.map { "\"\($0.rawValue)\" text NOT NULL DEFAULT ''" }.joined(separator: ",\n    ")),
                CHECK ("phone1" LIKE '+%'),
                CHECK ("firstName" <> '' OR "lastName" <> '' OR "organization" <> ''),
                PRIMARY KEY (organization_id, id)
            )
            """,
            #"CREATE UNIQUE INDEX contacts_external_id ON contacts(organization_id, "externalId") WHERE "externalId" <> ''"#,
            "CREATE INDEX contacts_version ON contacts(organization_id, version)",
            """
            CREATE TABLE changes (
                organization_id bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                version bigint NOT NULL,
                contact_id bigint NOT NULL,
                op text NOT NULL CHECK (op IN ('upsert', 'delete', 'labels')),
                PRIMARY KEY (organization_id, version, contact_id)
            )
            """,
            "CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL)",
            """
            CREATE TABLE tokens (
                organization_id bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                id bigint NOT NULL CHECK (id > 0),
                scope text NOT NULL CHECK (scope IN ('lookup', 'write', 'admin')),
                label text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
                prefix text NOT NULL,
                hash text NOT NULL UNIQUE CHECK (length(hash) = 64),
                created_at bigint NOT NULL,
                revoked_at bigint,
                PRIMARY KEY (organization_id, id)
            )
            """,
            "INSERT INTO settings (key, value) VALUES ('credentials-version', '0')",
        ],
        // Roles for users: every earlier user becomes an admin; the session epoch ends a user's
        // admin-page sessions.
        [
            "ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'admin' CHECK (role IN ('reader', 'editor', 'admin'))",
            "ALTER TABLE users ADD COLUMN session_epoch bigint NOT NULL DEFAULT 1",
        ],
        // CRM sync sources and their last runs; a run is claimed by a lease (one node at a time,
        // one scheduled run per slot).
        [
            """
            CREATE TABLE sync_sources (
                id bigserial PRIMARY KEY,
                organization_id bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                definition text NOT NULL,
                etag text,
                last_modified text,
                lease_holder text,
                lease_until double precision,
                last_slot bigint NOT NULL DEFAULT -1,
                created_at bigint NOT NULL
            )
            """,
            """
            CREATE TABLE sync_runs (
                id bigserial PRIMARY KEY,
                source_id bigint NOT NULL REFERENCES sync_sources(id) ON DELETE CASCADE,
                run text NOT NULL
            )
            """,
            "CREATE INDEX sync_runs_by_source ON sync_runs (source_id, id)",
        ],
        // The contacts' and the change log's foreign keys to their organization go: their check
        // ran once per row and cost a first import 40 % of its COPY (80,000 rows: 0.50 s without,
        // 0.80–0.90 s with). What they guarded still holds: every write to an organization's
        // contacts or log first locks or updates the organization's row in the same transaction,
        // and organizations are never deleted (one that is must delete its rows itself).
        [
            "ALTER TABLE contacts DROP CONSTRAINT IF EXISTS contacts_organization_id_fkey",
            "ALTER TABLE changes DROP CONSTRAINT IF EXISTS changes_organization_id_fkey",
        ],
    ]
}

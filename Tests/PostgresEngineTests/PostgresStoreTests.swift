import PostgresNIO
import Contacts
import Foundation
import NIOSSL
import PhoneNumbers
@testable import PostgresEngine
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

/// The PostgreSQL engine against a real server (issue 18): `scripts/test.sh` starts a throwaway
/// PostgreSQL (`scripts/postgres.sh`) and names it in `CALLER_LOOKUP_TEST_POSTGRES_URL`. Every
/// import here also goes into a SQLite store, and both must answer alike: the same reports, ids,
/// versions, full loads and change feeds.
/// The throwaway server's URL, when there is one.
let postgresURL = ProcessInfo.processInfo.environment["CALLER_LOOKUP_TEST_POSTGRES_URL"]

@Suite(.enabled(if: postgresURL != nil, "set CALLER_LOOKUP_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct PostgresStoreTests {
    static var url: String? { postgresURL }

    /// Runs `body` with a migrated PostgreSQL store and a SQLite store, each with a fresh
    /// organization (a unique name: the database is shared by the tests).
    func withBothEngines(
        _ body: (PostgresStore, Int64, SQLiteStore, Int64) async throws -> Void
    ) async throws {
        let postgres = try PostgresStore(url: try #require(Self.url), patience: .seconds(30))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await postgres.run() }
            defer { group.cancelAll() }
            try await postgres.migrate()
            let name = "IPEX-\(UUID().uuidString.prefix(8))"
            let organization = try await postgres.createOrganization(name: name, defaultRegion: "CZ")
            let directory = TemporaryDirectory()
            let sqlite = try SQLiteStore(directory: directory.path)
            let local = try sqlite.createOrganization(name: name, defaultRegion: "CZ")
            try await body(postgres, organization.id, sqlite, local.id)
        }
    }

    static func csv(_ lines: [String]) -> [UInt8] {
        Array((["firstName;lastName;organization;externalId;email;phone1;phone2;agent1"] + lines).joined(separator: "\n").utf8)
    }

    /// Imports `bytes` into both engines; the reports must agree, and so must what is stored.
    func importBoth(_ bytes: [UInt8], _ postgres: PostgresStore, _ remote: Int64, _ sqlite: SQLiteStore, _ local: Int64) async throws
        -> ImportReport
    {
        let validator = PhoneNumberValidator()
        let expected = try sqlite.importContacts(csv: bytes, organizationID: local, validator: validator)
        let report = try await postgres.importContacts(csv: bytes, organizationID: remote, validator: validator)
        #expect(report.json == expected.json, "the reports agree")
        let (loaded, sqliteLoad) = (try await postgres.fullLoad(organizationID: remote), try sqlite.fullLoad(organizationID: local))
        #expect(loaded.version == sqliteLoad.version)
        #expect(loaded.contacts == sqliteLoad.contacts, "the same ids, versions and values")
        return report
    }

    @Test func importsDiffAndFeedLikeTheSQLiteStore() async throws {
        try await withBothEngines { postgres, remote, sqlite, local in
            let first = try await importBoth(Fixtures.maximalCSV, postgres, remote, sqlite, local)
            #expect(first.created == 2 && first.version == 1)
            // Again: nothing changes, the version stays.
            let again = try await importBoth(Fixtures.maximalCSV, postgres, remote, sqlite, local)
            #expect(again.unchanged == 2 && again.version == 1)

            let v1 = Self.csv([
                "Jan;Novák;IPEX;A1;jan@novak.com;+420222333444;;22",
                "Eva;Malá;;A2;;+420601111222;;23",
                "Petr;Dvojník;;;;+420601000001;;",
                "Petr;Dvojník;;;;+420601000001;;",
                "Tab\\there;Zpětné\\lomítko;;;;+420601000002;;",
                "Ivo;Pryč;;A3;;+420601000003;;",
            ])
            _ = try await importBoth(v1, postgres, remote, sqlite, local)
            // Changed, kept, one of two identical rows gone, a row whose externalId now names
            // other values (updated, same id), one new.
            let v2 = Self.csv([
                "Jan;Novák;IPEX a.s.;A1;jan@novak.com;+420222333444;;22",
                "Eva;Malá;;A2;;+420601111222;;23",
                "Petr;Dvojník;;;;+420601000001;;",
                "Tab\\there;Zpětné\\lomítko;;;;+420601000002;;",
                "Nový;Kontakt;;A3;;+420601000004;;",
                "Bez;Klíče;;;;+420601000005;;",
            ])
            let report = try await importBoth(v2, postgres, remote, sqlite, local)
            #expect(report.updated == 2 && report.created == 1 && report.deleted == 1 && report.unchanged == 3, "\(report.json)")
            // The change feed from every version agrees, in whole transactions.
            for since in Int64(0)...report.version {
                for limit in [1, 3, 10_000] {
                    let feed = try await postgres.changes(organizationID: remote, after: since, limit: limit)
                    let expected = try sqlite.changes(organizationID: local, after: since, limit: limit)
                    #expect(feed == expected, "since \(since), limit \(limit)")
                }
            }
            #expect(try await postgres.changes(organizationID: remote, after: report.version + 1).resync)
        }
    }

    @Test func aRefusedFileChangesNothing() async throws {
        try await withBothEngines { postgres, remote, sqlite, local in
            _ = try await importBoth(Fixtures.maximalCSV, postgres, remote, sqlite, local)
            let before = try await postgres.fullLoad(organizationID: remote)
            await #expect(throws: ImportRejection.self) {
                _ = try await postgres.importContacts(csv: Array("lastName;phone1\nNikdo;+42012\n".utf8), organizationID: remote, validator: .init())
            }
            var after = try await postgres.fullLoad(organizationID: remote)
            #expect(after.contacts == before.contacts && after.version == before.version)
            // Refused after thousands of its rows were already sent to the server: rolled back.
            var late = Self.csv((0..<20_000).map { "Jméno;Příjmení\($0);;;;+4206010\(String(format: "%05d", $0));;" })
            late += Array("\nZlý;Řádek;;;;+420601099999;;".utf8) + [0xFF, 0xFE] + Array("\n".utf8)
            await #expect(throws: ImportRejection.self) {
                _ = try await postgres.importContacts(csv: late, organizationID: remote, validator: .init())
            }
            #expect(throws: ImportRejection.self) { _ = try sqlite.importContacts(csv: late, organizationID: local, validator: .init()) }
            after = try await postgres.fullLoad(organizationID: remote)
            #expect(after.contacts == before.contacts && after.version == before.version)
        }
    }

    @Test func organizationsAndUsers() async throws {
        try await withBothEngines { postgres, remote, _, _ in
            let organization = try #require(try await postgres.organization(id: remote))
            #expect(try await postgres.organization(named: organization.name)?.id == remote)
            await #expect(throws: ContactStoreError.self) {
                _ = try await postgres.createOrganization(name: organization.name)
            }
            await #expect(throws: ContactStoreError.self) {
                _ = try await postgres.createOrganization(name: "X-\(UUID().uuidString.prefix(6))", defaultRegion: "XX")
            }
            let login = "novak-\(UUID().uuidString.prefix(8))"
            try await postgres.addUser(login: login, password: "hesloNovak", organizationID: remote)
            await #expect(throws: ContactStoreError.self) {
                try await postgres.addUser(login: login, password: "jineHeslo12", organizationID: remote)
            }
            #expect(try await postgres.authenticate(login: login, password: "hesloNovak")?.id == remote)
            #expect(try await postgres.authenticate(login: login, password: "spatne") == nil)
            #expect(try await postgres.authenticate(login: "nikdo-\(login)", password: "hesloNovak") == nil)
            // Migrating again changes nothing.
            #expect(try await postgres.migrate() == (try await postgres.migrate()))
        }
    }

    /// Two writers at once on one organization (two nodes importing): the row lock orders them,
    /// versions are gap-free, and the feed from 0 replays to the final state.
    @Test func concurrentImportsGiveAGapFreeOrderedFeed() async throws {
        try await withBothEngines { postgres, remote, _, _ in
            let files = (0..<6).map { round in
                Self.csv((0..<20).map { "Jméno\(round);Příjmení\($0);;E\($0);;+4206010\(String(format: "%05d", $0));;" })
            }
            try await withThrowingTaskGroup(of: ImportReport.self) { group in
                for file in files { group.addTask { try await postgres.importContacts(csv: file, organizationID: remote, validator: .init()) } }
                var versions: [Int64] = []
                for try await report in group { versions.append(report.version) }
                #expect(versions.sorted() == Array(1...6), "one version per import, none skipped or shared")
            }
            let feed = try await postgres.changes(organizationID: remote, after: 0)
            var replayed: [Int64: StoredContact] = [:]
            var lastVersion: Int64 = 0
            for change in feed.changes {
                #expect(change.version >= lastVersion, "ordered")
                lastVersion = change.version
                switch change {
                case .upsert(let stored): replayed[stored.id] = stored
                case .delete(let id, _): replayed[id] = nil
                }
            }
            let load = try await postgres.fullLoad(organizationID: remote)
            #expect(replayed.values.sorted { $0.id < $1.id } == load.contacts)
            #expect(load.contacts.count == 20 && load.version == 6)
        }
    }

    /// Two nodes on one server: node B hears of node A's import as soon as it commits, and its feed
    /// then has the import; a refused import announces nothing.
    @Test func anotherNodeHearsOfEachCommit() async throws {
        try await withBothEngines { nodeA, organizationID, _, _ in
            let nodeB = try PostgresStore(url: try #require(Self.url), patience: .seconds(30))
            let heard = AsyncStream<(Int64, Int64)>.makeStream()
            let ready = AsyncStream<Void>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await nodeB.run() }
                group.addTask {
                    try await nodeB.followCommits(listening: { ready.continuation.yield() }) { organization, version in
                        heard.continuation.yield((organization, version))
                    }
                }
                group.addTask {
                    // A bound on the whole exchange: a lost announcement fails the test, never hangs it.
                    try await Task.sleep(for: .seconds(30))
                    ready.continuation.finish()
                    heard.continuation.finish()
                }
                defer { group.cancelAll() }
                var readiness = ready.stream.makeAsyncIterator()
                _ = await readiness.next()
                _ = try await nodeA.importContacts(csv: Fixtures.maximalCSV, organizationID: organizationID, validator: .init())
                await #expect(throws: ImportRejection.self) {
                    _ = try await nodeA.importContacts(csv: Array("lastName;phone1\nNikdo;+42012\n".utf8), organizationID: organizationID, validator: .init())
                }
                _ = try await nodeA.importContacts(csv: Self.csv(["Jan;Novák;;;;+420222333444;;"]), organizationID: organizationID, validator: .init())
                var announcements: [Int64] = []
                for await (organization, version) in heard.stream where organization == organizationID {
                    announcements.append(version)
                    let feed = try await nodeB.changes(organizationID: organizationID, after: version - 1)
                    #expect(feed.version >= version && !feed.changes.isEmpty, "the commit is readable when announced")
                    if announcements.count == 2 { break }
                }
                #expect(announcements == [1, 2], "one announcement per commit, in order, none for the refused file")
                #expect(try await nodeB.versions()[organizationID] == 2)
            }
        }
    }
}

/// The password file, read as libpq reads it.
@Suite struct PasswordFileTests {
    @Test func theFirstMatchingLineWins() throws {
        let text = """
            # comment
            db.example.com:5432:callerlookup:app:first
            *:*:callerlookup:app:second
            127.0.0.1:5433:*:*:with\\:colon\\\\slash
            """
        #expect(PasswordFile.password(in: text, host: "db.example.com", port: 5432, database: "callerlookup", user: "app") == "first")
        #expect(PasswordFile.password(in: text, host: "other", port: 6000, database: "callerlookup", user: "app") == "second")
        #expect(PasswordFile.password(in: text, host: "127.0.0.1", port: 5433, database: "x", user: "y") == "with:colon\\slash")
        #expect(PasswordFile.password(in: text, host: "127.0.0.1", port: 5434, database: "x", user: "y") == nil)
    }
}

/// `sslmode` and `sslrootcert` in the store URL, as libpq reads them.
@Suite struct TLSModeTests {
    func verification(_ url: String) throws -> CertificateVerification? {
        try PostgresStore.tls(URLComponents(string: url)?.queryItems ?? []).verification
    }

    @Test func sslmodeAsLibpqReadsIt() throws {
        #expect(try verification("postgres://app@db:5432/callerlookup") == CertificateVerification.none, "prefer: TLS when offered, unchecked")
        #expect(try verification("postgres://app@db:5432/callerlookup?sslmode=disable") == nil, "no TLS")
        #expect(try verification("postgres://app@db:5432/callerlookup?sslmode=require") == CertificateVerification.none)
        #expect(try verification("postgres://app@db/callerlookup?sslmode=verify-ca&sslrootcert=/etc/ssl/certs/ca.pem") == .noHostnameVerification)
        #expect(try verification("postgres://app@db/callerlookup?sslmode=verify-full") == .fullVerification)
        #expect(throws: ContactStoreError.self) { try PostgresStore.configuration("postgres://app@db/callerlookup?sslmode=always") }
        #expect(try PostgresStore.configuration("postgres://app@db:6543/callerlookup?sslmode=disable").database == "callerlookup")
    }
}

/// TLS for real: `scripts/postgres.sh` serves TLS with a self-signed certificate for 127.0.0.1.
@Suite(.enabled(if: postgresURL != nil && ProcessInfo.processInfo.environment["CALLER_LOOKUP_TEST_POSTGRES_CA"] != nil,
                "set CALLER_LOOKUP_TEST_POSTGRES_URL and _CA (scripts/test.sh does)"))
struct PostgresTLSTests {
    /// Generous patience: a loaded machine (the whole suite starting at once) was seen to take more than 5 s.
    func versions(_ query: String, patience: Duration = .seconds(30)) async throws -> [Int64: Int64] {
        let store = try PostgresStore(url: try #require(postgresURL) + query, patience: patience)
        return try await withThrowingTaskGroup(of: [Int64: Int64]?.self) { group in
            group.addTask {
                await store.run()
                return nil
            }
            defer { group.cancelAll() }
            try await store.migrate()
            return try await store.versions()
        }
    }

    @Test func theServersCertificateIsChecked() async throws {
        let ca = try #require(ProcessInfo.processInfo.environment["CALLER_LOOKUP_TEST_POSTGRES_CA"])
        _ = try await versions("?sslmode=require")
        _ = try await versions("?sslmode=verify-full&sslrootcert=\(ca)")
        // Another CA: the certificate is refused, and nothing is sent.
        let other = TemporaryDirectory()
        let otherCA = other.path + "/other.crt"
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-new", "-x509", "-days", "1", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", other.path + "/k", "-out", otherCA]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        await #expect(throws: (any Error).self) { _ = try await versions("?sslmode=verify-full&sslrootcert=\(otherCA)", patience: .seconds(5)) }
    }
}

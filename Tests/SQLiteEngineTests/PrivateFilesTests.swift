import PhoneNumbers
import Foundation
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

/// The store's files are the owner's alone, whatever the umask; a store others can read is
/// refused with the command that fixes it. (Serialized: the umask is the process's.)
@Suite(.serialized) struct PrivateFilesTests {
    let parent = TemporaryDirectory()

    func mode(_ path: String) -> mode_t {
        var info = stat()
        #expect(stat(path, &info) == 0, "\(path)")
        return info.st_mode & 0o777
    }

    /// Runs `body` under a umask that lets everyone read what is created.
    func withUmask<T>(_ mask: mode_t, _ body: () throws -> T) rethrows -> T {
        let previous = umask(mask)
        defer { umask(previous) }
        return try body()
    }

    @Test func aNewStoreIsTheOwnersAloneUnderAnyUmask() throws {
        let directory = parent.path + "/nested/data"
        let store = try withUmask(0o022) { try SQLiteStore(directory: directory) }
        let organization = try store.createOrganization(name: "IPEX", defaultRegion: "CZ")
        _ = try store.importContacts(csv: Array("lastName;phone1\nNovák;+420 601 222 333\n".utf8), organizationID: organization.id, validator: .init())
        #expect(mode(directory) == 0o700)
        for suffix in ["", "-wal", "-shm"] {
            #expect(mode(directory + "/caller-lookup.sqlite" + suffix) == 0o600, "caller-lookup.sqlite\(suffix)")
        }
    }

    @Test func anEmptyDirectoryMadeForTheStoreIsMadePrivate() throws {
        let directory = parent.path + "/made-by-mkdir"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        _ = try SQLiteStore(directory: directory)
        #expect(mode(directory) == 0o700)
        #expect(mode(directory + "/caller-lookup.sqlite") == 0o600)
    }

    @Test func aDirectoryOthersCanReadIsRefusedWithTheFix() throws {
        let directory = parent.path + "/open"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        // Something of somebody's in it already: never changed behind their back.
        #expect(FileManager.default.createFile(atPath: directory + "/notes.txt", contents: Data("x".utf8)))
        #expect {
            try SQLiteStore(directory: directory)
        } throws: { error in
            "\(error)".contains("can be read by other users") && "\(error)".contains("chmod 700 '\(directory)'")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/caller-lookup.sqlite"), "nothing was created in it")
        #expect(mode(directory) == 0o755)
        #expect(chmod(directory, 0o700) == 0)
        _ = try SQLiteStore(directory: directory)
    }

    @Test func aStoreFileOthersCanReadIsRefusedWithTheFix() throws {
        let directory = parent.path + "/old"
        _ = try SQLiteStore(directory: directory)
        let path = directory + "/caller-lookup.sqlite"
        #expect(chmod(path, 0o644) == 0)
        #expect {
            try SQLiteStore(directory: directory)
        } throws: { error in
            "\(error)".contains("The store file '\(path)' can be read by other users") && "\(error)".contains("chmod 600")
        }
        #expect(chmod(path, 0o600) == 0)
        _ = try SQLiteStore(directory: directory)
    }

    @Test func passwordsInURLsAreRedacted() {
        #expect(Redaction.redacted("postgres://svc:S3cr%40t@db.example:5432/calls?sslmode=require")
            == "postgres://svc:***@db.example:5432/calls?sslmode=require")
        #expect(Redaction.redacted("PostgreSQL at postgresql://svc:pw@127.0.0.1/db does not answer")
            == "PostgreSQL at postgresql://svc:***@127.0.0.1/db does not answer")
        #expect(Redaction.redacted("http://novak:heslo@api:8080 and https://x:y@z/") == "http://novak:***@api:8080 and https://x:***@z/")
        #expect(Redaction.redacted("postgres://db/calls?user=a&password=tajne&sslmode=disable")
            == "postgres://db/calls?user=a&password=***&sslmode=disable")
        #expect(Redaction.redacted("postgres://svc@db/calls") == "postgres://svc@db/calls", "no password, nothing to hide")
        #expect(Redaction.redacted("no url here") == "no url here")
    }
}

import Foundation
import Contacts
import PhoneNumbers
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

@Suite struct SQLiteStoreTests {
    let directory = TemporaryDirectory()
    let validator = PhoneNumberValidator()
    let store: SQLiteStore
    let organization: Organization

    init() throws {
        store = try SQLiteStore(directory: directory.path)
        organization = try store.createOrganization(name: "IPEX", defaultRegion: "CZ")
    }

    func parse(_ text: String) throws -> ParsedImport {
        try ParsedImport.parse(Array(text.utf8), validator: validator)
    }

    func contact(_ draft: [ContactField: String]) throws -> Contact {
        try Contact.validate(draft, validator: validator).get()
    }

    @discardableResult
    func importText(_ text: String, into organization: Organization? = nil) throws -> ImportReport {
        try importBytes(Array(text.utf8), into: organization)
    }

    @discardableResult
    func importBytes(_ bytes: [UInt8], into organization: Organization? = nil) throws -> ImportReport {
        try store.importContacts(csv: bytes, organizationID: (organization ?? self.organization).id, validator: validator)
    }

    @Test func importsTheMaximalSample() throws {
        let report = try importBytes(Fixtures.maximalCSV)
        #expect(report.json.hasPrefix(#"{"message":"uploaded","error":"","imported":2,"rejected":0,"created":2"#))
        let number = try #require(PhoneNumber(e164: "+420222333444"))
        let found = try store.contacts(withNumber: number, organizationID: organization.id)
        #expect(found.map(\.contact.displayName) == ["Jan Novák", "Ivan Neúplný"])
        #expect(try store.organization(id: organization.id)?.version == 1)
    }

    /// A second connection (a CLI import beside a running server) commits; this store sees it at
    /// once: no half-read query keeps an old read snapshot open.
    @Test func seesWhatAnotherProcessCommits() throws {
        try importText("lastName;phone1\nPrvní;+420222333444\n")
        _ = try store.organization(named: "IPEX")
        _ = try store.changes(organizationID: organization.id, after: 0)
        _ = try store.authenticate(login: "nikdo", password: "x")
        let other = try SQLiteStore(directory: directory.path)
        _ = try other.importContacts(
            csv: Array("lastName;phone1\nDruhý;+420222333445\n".utf8), organizationID: organization.id, validator: validator)
        #expect(try store.organization(named: "IPEX")?.version == 2)
        #expect(try store.changes(organizationID: organization.id, after: 1).changes.count == 2)
    }

    /// A file refused after whole windows of rows were already written (invalid UTF-8 near the
    /// end) leaves the previous contacts exactly as they were.
    @Test func lateRefusalRollsBackRowsAlreadyWritten() throws {
        try importText("lastName;phone1;externalId\nStará;+420222333444;old\n")
        let before = try store.allContacts(organizationID: organization.id)
        var text = "lastName;phone1;externalId\n"
        for row in 0..<(ParsedImport.windowSize * 2 + 10) {
            text += "Nový\(row);+420 601 \(String(100_000 + row));new\(row)\n"
        }
        let bytes = Array(text.utf8) + [0x4E, 0xE1, 0x6B, 0x3B, 0x2B, 0x34, 0x32, 0x30, 0x0A]  // "N\xE1k;+420": Latin-2
        #expect(throws: ImportRejection.self) { try importBytes(bytes) }
        let after = try store.allContacts(organizationID: organization.id)
        #expect(after.contacts == before.contacts)
        #expect(after.version == before.version)
        #expect(try store.changes(organizationID: organization.id, after: before.version).changes.isEmpty)
        // The store is usable afterwards, and the same rows without the broken line import.
        let report = try importText(text)
        #expect((report.created, report.deleted) == (ParsedImport.windowSize * 2 + 10, 1))
    }

    /// Streaming a large re-import gives the same report and contacts as matching the whole set:
    /// unchanged rows keep ids, changed rows are updated, missing rows deleted, new rows created.
    @Test func largeReimportMatchesEveryRow() throws {
        func file(_ rows: Range<Int>, changed: Set<Int> = []) -> String {
            "lastName;phone1;externalId;customField1\n" + rows.map { row in
                "Kontakt\(row);+420 601 \(String(100_000 + row));\(row % 3 == 0 ? "" : "id\(row)");\(changed.contains(row) ? "změna" : "")\n"
            }.joined()
        }
        let first = try importText(file(0..<20_000))
        #expect(first.created == 20_000)
        let before = try store.allContacts(organizationID: organization.id)
        let report = try importText(file(5_000..<25_000, changed: [5_001, 19_999, 6_000]))
        // Rows without externalId (row % 3 == 0) match by values: 5_001 and 6_000 changed, so they
        // are new contacts and their old versions go; 19_999 has an externalId and is updated.
        #expect(report.deleted == 5_000 + 2)
        #expect(report.created == 5_000 + 2)
        #expect(report.updated == 1)
        #expect(report.unchanged == 15_000 - 3)
        let after = try store.allContacts(organizationID: organization.id)
        #expect(after.contacts.count == 20_000)
        let beforeIDs = Dictionary(uniqueKeysWithValues: before.contacts.map { ($0.contact[.lastName], $0.id) })
        for stored in after.contacts where !["Kontakt5001", "Kontakt6000"].contains(stored.contact[.lastName]) {
            if let old = beforeIDs[stored.contact[.lastName]] { #expect(stored.id == old) }
        }
    }

    @Test func reimportingTheSameFileChangesNothing() throws {
        try importBytes(Fixtures.maximalCSV)
        let before = try store.allContacts(organizationID: organization.id)
        let report = try importBytes(Fixtures.maximalCSV)
        #expect((report.created, report.updated, report.deleted, report.unchanged) == (0, 0, 0, 2))
        let after = try store.allContacts(organizationID: organization.id)
        #expect(after.contacts == before.contacts)
        #expect(after.version == before.version, "nothing entered the change log")
        #expect(try store.changes(organizationID: organization.id, after: before.version).changes.isEmpty)
    }

    @Test func changedFileLogsOnlyTheDifferences() throws {
        try importText("externalId;lastName;phone1\n1;A;+420222333441\n2;B;+420222333442\n3;C;+420222333443\n;D;+420222333444\n;E;+420222333445\n")
        let first = try store.allContacts(organizationID: organization.id)
        // 1 unchanged, 2 updated, 3 deleted, 4 created; D unchanged by content, E deleted, F created.
        let report = try importText("externalId;lastName;phone1\n1;A;+420222333441\n2;B2;+420222333442\n4;N;+420222333446\n;D;+420222333444\n;F;+420222333447\n")
        #expect((report.created, report.updated, report.deleted, report.unchanged) == (2, 1, 2, 2))
        let batch = try store.changes(organizationID: organization.id, after: first.version)
        #expect(batch.version == first.version + 1)
        let ids = Dictionary(uniqueKeysWithValues: first.contacts.map { ($0.contact[.lastName], $0.id) })
        var upserted: [String] = []
        var deleted: [Int64] = []
        for change in batch.changes {
            switch change {
            case .upsert(let stored): upserted.append(stored.contact[.lastName])
            case .delete(let id, _): deleted.append(id)
            }
        }
        #expect(Set(upserted) == ["B2", "N", "F"])
        #expect(Set(deleted) == [ids["C"]!, ids["E"]!])
        let after = try store.allContacts(organizationID: organization.id).contacts
        #expect(after.first { $0.contact[.lastName] == "A" }?.id == ids["A"], "unchanged contacts keep their id")
        #expect(after.first { $0.contact[.lastName] == "A" }?.version == first.version, "and their version")
        #expect(after.first { $0.contact[.lastName] == "B2" }?.id == ids["B"], "matched by externalId")
        #expect(after.first { $0.contact[.lastName] == "D" }?.id == ids["D"], "matched by content")
    }

    @Test func identicalRowsWithoutExternalIdAreKeptApart() throws {
        try importText("lastName;phone1\nA;+420222333441\nA;+420222333441\n")
        #expect(try store.allContacts(organizationID: organization.id).contacts.count == 2)
        let report = try importText("lastName;phone1\nA;+420222333441\n")
        #expect((report.deleted, report.unchanged) == (1, 1))
    }

    @Test func fileWithNoValidRowLeavesTheOldContacts() throws {
        try importText("lastName;phone1\nA;+420222333441\n")
        let before = try store.allContacts(organizationID: organization.id)
        #expect(throws: ImportRejection.self) { try parse("lastName;phone1\nB;+42\n") }
        #expect(throws: ContactStoreError.self) { try store.replaceAll(organizationID: organization.id, with: []) }
        #expect(try store.allContacts(organizationID: organization.id) == before)
    }

    @Test func organizationsNeverSeeEachOther() throws {
        let other = try store.createOrganization(name: "Jiná s.r.o.", defaultRegion: "SK")
        try importText("lastName;phone1\nA;+420222333441\n")
        try importText("lastName;phone1\nB;+420222333441\n", into: other)
        let number = try #require(PhoneNumber(e164: "+420222333441"))
        #expect(try store.contacts(withNumber: number, organizationID: organization.id).map(\.contact[.lastName]) == ["A"])
        #expect(try store.contacts(withNumber: number, organizationID: other.id).map(\.contact[.lastName]) == ["B"])
        // Ids count per organization: the same id names each organization's own contact, and a
        // write through one organization never reaches the other's.
        let id = try #require(try store.allContacts(organizationID: other.id).contacts.first?.id)
        #expect(try store.contact(id: id, organizationID: organization.id)?.contact[.lastName] == "A")
        try store.delete(id: id, organizationID: organization.id)
        #expect(try store.contact(id: id, organizationID: other.id)?.contact[.lastName] == "B")
        #expect(throws: ContactStoreError.self) { try store.delete(id: id, organizationID: organization.id) }
        #expect(try store.changes(organizationID: other.id, after: 0).changes.count == 1)
    }

    @Test func loginsAndPasswordsWithControlCharactersAreRefused() throws {
        for (login, password) in [("novak", "heslo\u{0}x"), ("no\nvak", "heslo"), ("novak", "he\tslo"), ("no\u{85}vak", "heslo")] {
            #expect(throws: ContactStoreError.self) { try store.addUser(login: login, password: password, organizationID: organization.id) }
        }
    }

    @Test func passwordsVerifyAndAreHashed() throws {
        try store.addUser(login: "novak", password: "hesloNovak", organizationID: organization.id)
        #expect(try store.authenticate(login: "novak", password: "hesloNovak")?.id == organization.id)
        #expect(try store.authenticate(login: "novak", password: "hesloNovaK") == nil)
        #expect(try store.authenticate(login: "nobody", password: "hesloNovak") == nil)
        #expect(throws: ContactStoreError.self) {
            try store.addUser(login: "novak", password: "jineHeslo12", organizationID: organization.id)
        }
        // The main file and its write-ahead log: the hash may sit in either.
        let file = try String(contentsOfFile: store.path, encoding: .isoLatin1)
            + ((try? String(contentsOfFile: store.path + "-wal", encoding: .isoLatin1)) ?? "")
        #expect(!file.contains("hesloNovak"))
        #expect(file.contains("$y$"), "a yescrypt hash is stored")
    }

    @Test func singleWritesBumpTheVersionAndLogTheChange() throws {
        let created = try store.create(try contact([.lastName: "A", .phone1: "+420222333441", .externalId: "x1"]), organizationID: organization.id)
        #expect(created.version == 1)
        let replaced = try store.replace(id: created.id, with: try contact([.lastName: "B", .phone1: "+420222333441"]), organizationID: organization.id)
        #expect(replaced.version == 2)
        #expect(replaced.contact[.externalId] == "", "PUT replaces the whole record")
        let same = try store.replace(id: created.id, with: replaced.contact, organizationID: organization.id)
        #expect(same.version == 2, "an unchanged write logs nothing")
        let (upserted, wasCreated) = try store.upsert(externalId: "e9", contact: try contact([.lastName: "C", .phone1: "+420222333442", .externalId: "e9"]), organizationID: organization.id)
        #expect(wasCreated && upserted.version == 3)
        let (again, createdAgain) = try store.upsert(externalId: "e9", contact: try contact([.lastName: "D", .phone1: "+420222333442", .externalId: "e9"]), organizationID: organization.id)
        #expect(!createdAgain && again.id == upserted.id && again.version == 4)
        try store.delete(id: created.id, organizationID: organization.id)
        let batch = try store.changes(organizationID: organization.id, after: 0)
        #expect(batch.version == 5)
        #expect(batch.changes == [.upsert(again), .delete(id: created.id, version: 5)],
                "superseded entries are left out; each contact appears with its latest state")
        #expect(try store.changes(organizationID: organization.id, after: 3).changes.map(\.version) == [4, 5])
    }

    /// Labels are versioned changes: a real change bumps the version and the feed carries the
    /// current labels with the batch that contains it (only the newest labels entry is kept).
    @Test func labelChangesAreVersionedAndInTheFeed() throws {
        try importText("lastName;phone1\nA;+420222333441\n")
        let first = try store.setLabels([.customField1: "Důležitost"], organizationID: organization.id)
        #expect(first.version == 2)
        #expect(try store.setLabels([.customField1: " Důležitost "], organizationID: organization.id).version == 2, "no change, no version")
        let second = try store.setLabels([.customField1: nil, .agent1: "Linka"], organizationID: organization.id)
        #expect(second.version == 3)
        let batch = try store.changes(organizationID: organization.id, after: 1)
        #expect(batch.version == 3)
        #expect(batch.changes.isEmpty)
        #expect(batch.labels == [.agent1: "Linka"])
        #expect(try store.changes(organizationID: organization.id, after: 0).labels == [.agent1: "Linka"])
        #expect(try store.changes(organizationID: organization.id, after: 3).labels == nil)
        _ = try store.create(try contact([.lastName: "B", .phone1: "+420222333442"]), organizationID: organization.id)
        #expect(try store.changes(organizationID: organization.id, after: 3).labels == nil, "a contact write carries no labels")
        let load = try store.fullLoad(organizationID: organization.id)
        #expect(load.version == 4 && load.labels == [.agent1: "Linka"] && load.contacts.count == 2)
    }

    @Test func duplicateExternalIdIsRefused() throws {
        _ = try store.create(try contact([.lastName: "A", .phone1: "+420222333441", .externalId: "x1"]), organizationID: organization.id)
        #expect {
            _ = try store.create(try contact([.lastName: "B", .phone1: "+420222333442", .externalId: "x1"]), organizationID: organization.id)
        } throws: { ($0 as? ContactStoreError)?.code == .duplicateExternalId }
        #expect(try store.organization(id: organization.id)?.version == 1, "the failed write changed nothing")
    }

    @Test func changeFeedHonoursLimitAtTransactionBoundariesAndResync() throws {
        try importText("lastName;phone1\nA;+420222333441\nB;+420222333442\nC;+420222333443\n")
        _ = try store.create(try contact([.lastName: "D", .phone1: "+420222333444"]), organizationID: organization.id)
        let first = try store.changes(organizationID: organization.id, after: 0, limit: 1)
        #expect(first.changes.count == 3, "the whole import transaction comes together")
        #expect(first.version == 1)
        #expect(try store.changes(organizationID: organization.id, after: 1, limit: 1).version == 2)
        #expect(try store.changes(organizationID: organization.id, after: 99).resync)
    }

    @Test func storeSurvivesReopening() throws {
        try importText("lastName;phone1\nA;+420222333441\n")
        let reopened = try SQLiteStore(directory: directory.path)
        #expect(try reopened.allContacts(organizationID: organization.id).contacts.count == 1)
    }

    @Test func organizationRules() throws {
        #expect(throws: ContactStoreError.self) { try store.createOrganization(name: "IPEX") }
        #expect(throws: ContactStoreError.self) { try store.createOrganization(name: "X", defaultRegion: "XX") }
        #expect(throws: ContactStoreError.self) { try store.createOrganization(name: "  ") }
        #expect(try store.organization(named: "IPEX")?.defaultRegion == "CZ")
    }
}

/// A server's store and a CLI command's store on the same directory (two processes in production):
/// what one commits never makes the other's next write fail.
@Suite struct TwoProcessesOnOneStoreTests {
    @Test func aWriteAfterAnotherProcessCommittedSucceeds() throws {
        let directory = TemporaryDirectory()
        let server = try SQLiteStore(directory: directory.path)
        let organization = try server.createOrganization(name: "IPEX", defaultRegion: "CZ")
        // A fresh server that has written nothing yet, then a CLI command's commit.
        let restarted = try SQLiteStore(directory: directory.path)
        let cli = try SQLiteStore(directory: directory.path)
        _ = try cli.createToken(organizationID: organization.id, scope: .lookup, label: "CLI")
        let contact = try Contact.validate([.lastName: "Novák", .phone1: "+420222333444"], validator: PhoneNumberValidator()).get()
        #expect(try restarted.create(contact, organizationID: organization.id).version == 1)
        _ = try cli.createToken(organizationID: organization.id, scope: .lookup, label: "again")
        _ = try restarted.replaceAll(organizationID: organization.id, with: [contact])
        _ = server
    }
}

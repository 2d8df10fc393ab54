import Contacts
import Foundation
import PhoneNumbers
import PostgresEngine
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

/// The store contract a serving node relies on (`RecordStore`), the same test code on both
/// engines: the embedded SQLite store, and PostgreSQL when `CALLER_LOOKUP_TEST_POSTGRES_URL` names
/// a server (`scripts/test.sh` starts one). Each test gets a fresh organization.
let postgresURL = ProcessInfo.processInfo.environment["CALLER_LOOKUP_TEST_POSTGRES_URL"]

enum Engine: String, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    /// SQLite always; PostgreSQL when a test server is set.
    static var available: [Engine] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    var testDescription: String { rawValue }

    /// Runs `body` with a store of this engine and a fresh organization in it.
    func withStore(_ body: (any RecordStore, Organization) async throws -> Void) async throws {
        let name = "contract-\(UUID().uuidString.prefix(8))"
        switch self {
        case .sqlite:
            let directory = TemporaryDirectory()
            let store = try SQLiteStore(directory: directory.path)
            let organization = try store.createOrganization(name: name, defaultRegion: "CZ")
            try await body(SQLiteRecordStore(store), organization)
        case .postgres:
            let store = try PostgresStore(url: try #require(postgresURL), patience: .seconds(30))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await store.run() }
                defer { group.cancelAll() }
                try await store.migrate()
                let organization = try await store.createOrganization(name: name, defaultRegion: "CZ")
                try await body(store, organization)
            }
        }
    }
}

@Suite struct RecordStoreContractTests {
    let validator = PhoneNumberValidator()

    func contact(_ draft: [ContactField: String]) throws -> Contact {
        try Contact.validate(draft, validator: validator).get()
    }

    @Test(arguments: Engine.available)
    func singleWritesAreVersionedAndFedInOrder(engine: Engine) async throws {
        try await engine.withStore { store, organization in
            let id = organization.id
            let jan = try await store.create(try contact([.firstName: "Jan", .phone1: "+420601000001", .externalId: "A1"]), organizationID: id)
            #expect(jan.id == 1 && jan.version == 1)
            let eva = try await store.create(try contact([.firstName: "Eva", .phone1: "+420601000002"]), organizationID: id)
            #expect(eva.id == 2 && eva.version == 2)

            // A taken externalId is refused, and nothing moves.
            await #expect(throws: ContactStoreError(.duplicateExternalId, "externalId 'A1' already belongs to another contact.")) {
                _ = try await store.create(try contact([.firstName: "Dup", .phone1: "+420601000003", .externalId: "A1"]), organizationID: id)
            }
            // PUT with the same values writes nothing; with others, a new version.
            let same = try await store.replace(id: jan.id, with: jan.contact, organizationID: id)
            #expect(same.version == 1)
            let renamed = try await store.replace(
                id: jan.id, with: try contact([.firstName: "Jan", .lastName: "Novák", .phone1: "+420601000001", .externalId: "A1"]),
                organizationID: id)
            #expect(renamed.version == 3)
            // PATCH gets the current values; a refusal inside it changes nothing.
            let patched = try await store.update(id: eva.id, organizationID: id) { current in
                var fields = Dictionary(uniqueKeysWithValues: ContactField.allCases.map { ($0, current[$0]) })
                fields[.organization] = "IPEX"
                return try Contact.validate(fields, validator: PhoneNumberValidator()).get()
            }
            #expect(patched.version == 4 && patched.contact[.organization] == "IPEX")
            await #expect(throws: ContactStoreError.self) {
                _ = try await store.update(id: eva.id, organizationID: id) { _ in throw ContactStoreError(.invalidInput, "no") }
            }
            await #expect(throws: ContactStoreError(.notFound, "Contact 99 does not exist.")) {
                _ = try await store.update(id: 99, organizationID: id) { $0 }
            }
            // Upsert by externalId: replaces, or creates.
            let (updated, created) = try await store.upsert(
                externalId: "A1", contact: try contact([.firstName: "Jan", .phone1: "+420601000009", .externalId: "A1"]), organizationID: id)
            #expect(!created && updated.id == jan.id && updated.version == 5)
            let (fresh, wasCreated) = try await store.upsert(
                externalId: "B7", contact: try contact([.lastName: "Nový", .phone1: "+420601000007", .externalId: "B7"]), organizationID: id)
            #expect(wasCreated && fresh.id == 3 && fresh.version == 6)
            #expect(try await store.delete(id: eva.id, organizationID: id) == 7)
            await #expect(throws: ContactStoreError(.notFound, "Contact \(eva.id) does not exist.")) {
                _ = try await store.delete(id: eva.id, organizationID: id)
            }

            #expect(try await store.contact(id: eva.id, organizationID: id) == nil)
            #expect(try await store.contact(id: jan.id, organizationID: id) == updated)
            let page = try await store.contactsPage(organizationID: id, afterID: 0, limit: 1)
            #expect(page.map(\.id) == [jan.id])
            #expect(try await store.contactsPage(organizationID: id, afterID: jan.id, limit: 10).map(\.id) == [fresh.id])

            // The feed: each contact in its current state, the delete, whole versions, no gaps.
            let feed = try await store.changes(organizationID: id, after: 0, limit: 100)
            #expect(feed.version == 7 && !feed.resync)
            #expect(feed.changes == [.upsert(updated), .upsert(fresh), .delete(id: eva.id, version: 7)])
            let tail = try await store.changes(organizationID: id, after: 5, limit: 100)
            #expect(tail.changes.map(\.version) == [6, 7])
            let load = try await store.fullLoad(organizationID: id)
            #expect(load.version == 7 && load.contacts == [updated, fresh])
            #expect(try await store.organization(id: id)?.version == 7)
        }
    }

    @Test(arguments: Engine.available)
    func aBatchIsAllOrNothing(engine: Engine) async throws {
        try await engine.withStore { store, organization in
            let id = organization.id
            let a = try contact([.firstName: "A", .phone1: "+420601000001", .externalId: "A"])
            let (results, version) = try await store.applyBatch(
                [.upsert(a), .upsert(try contact([.firstName: "B", .phone1: "+420601000002"]))], organizationID: id)
            #expect(version == 1 && results.count == 2)
            guard case .created(let created) = results[0] else { Issue.record("created: \(results[0])"); return }
            // The second operation fails: the first one's change is gone with it.
            await #expect(throws: BatchFailure.self) {
                _ = try await store.applyBatch(
                    [.upsert(try contact([.firstName: "A2", .phone1: "+420601000001", .externalId: "A"])), .delete(id: 42)], organizationID: id)
            }
            do {
                _ = try await store.applyBatch([.upsert(a), .deleteExternal("nobody")], organizationID: id)
                Issue.record("the batch should fail")
            } catch let failure as BatchFailure {
                #expect(failure.index == 1 && failure.error.code == .notFound)
            }
            #expect(try await store.contact(id: created.id, organizationID: id)?.contact == a)
            let (again, same) = try await store.applyBatch([.upsert(a), .deleteExternal("A")], organizationID: id)
            #expect(again == [.unchanged(created), .deleted(created.id)] && same == 2)
            #expect(try await store.changes(organizationID: id, after: 0, limit: 10).changes.map(\.version) == [1, 2])
        }
    }

    @Test(arguments: Engine.available)
    func labelsAreVersionedLikeContacts(engine: Engine) async throws {
        try await engine.withStore { store, organization in
            let id = organization.id
            let labelled = try await store.setLabels([.customField1: "  Důležitost ", .customField2: "Tarif"], organizationID: id)
            #expect(labelled.labels == [.customField1: "Důležitost", .customField2: "Tarif"] && labelled.version == 1)
            // The same labels again change nothing; clearing one is a change.
            #expect(try await store.setLabels([.customField1: "Důležitost"], organizationID: id).version == 1)
            let cleared = try await store.setLabels([.customField2: nil], organizationID: id)
            #expect(cleared.labels == [.customField1: "Důležitost"] && cleared.version == 2)
            await #expect(throws: ContactStoreError.self) {
                _ = try await store.setLabels([.customField3: String(repeating: "x", count: 65)], organizationID: id)
            }
            let feed = try await store.changes(organizationID: id, after: 0, limit: 10)
            #expect(feed.version == 2 && feed.labels == [.customField1: "Důležitost"])
            #expect(try await store.changes(organizationID: id, after: 2, limit: 10).labels == nil)
        }
    }

    @Test(arguments: Engine.available)
    func tokensAndPopupLinks(engine: Engine) async throws {
        try await engine.withStore { store, organization in
            let id = organization.id
            let before = try await store.credentialsVersion()
            let (token, secret) = try await store.createToken(organizationID: id, scope: .write, label: " FreeSWITCH Brno ")
            #expect(token.id == 1 && token.label == "FreeSWITCH Brno" && token.prefix == String(secret.prefix(10)))
            #expect(AccessTokenRules.isTokenShaped(secret))
            let (second, _) = try await store.createToken(organizationID: id, scope: .lookup, label: "")
            #expect(second.id == 2)
            await #expect(throws: ContactStoreError.self) {
                _ = try await store.createToken(organizationID: id, scope: .lookup, label: "tab\there")
            }
            let grant = try #require(try await store.authenticate(token: secret))
            #expect(grant.organization.id == id && grant.scope == .write && grant.tokenID == 1)
            #expect(try await store.authenticate(token: "clk_" + String(repeating: "0", count: 48)) == nil)
            #expect(try await store.tokens(organizationID: id).map(\.id) == [1, 2])

            let revoked = try await store.revokeToken(id: 1, organizationID: id)
            #expect(revoked.revoked != nil)
            #expect(try await store.authenticate(token: secret) == nil)
            let afterRevoke = try await store.credentialsVersion()
            #expect(afterRevoke > before)
            // Revoking again changes nothing. (The credentials version is the whole store's: on the
            // PostgreSQL database the tests share, other tests move it meanwhile.)
            #expect(try await store.revokeToken(id: 1, organizationID: id) == revoked)
            if engine == .sqlite { #expect(try await store.credentialsVersion() == afterRevoke) }
            await #expect(throws: ContactStoreError.self) { _ = try await store.revokeToken(id: 9, organizationID: id) }

            let link = try await store.popupToken(organizationID: id)
            #expect(try await store.organization(popupToken: link)?.id == id)
            #expect(try await store.organization(popupToken: link + "x") == nil)
            let rotated = try await store.rotatePopupToken(organizationID: id)
            #expect(rotated != link)
            #expect(try await store.organization(popupToken: link) == nil)
            #expect(try await store.organization(popupToken: rotated)?.id == id)
            #expect(try await store.credentialsVersion() > afterRevoke)
        }
    }

    @Test(arguments: Engine.available)
    func usersAndRoles(engine: Engine) async throws {
        try await engine.withStore { store, organization in
            let id = organization.id
            let suffix = String(UUID().uuidString.prefix(6))
            let (admin, editor) = ("admin-\(suffix)", "editor-\(suffix)")
            try await store.addUser(login: admin, password: "hesloAdmin1", role: .admin, organizationID: id)
            try await store.addUser(login: editor, password: "hesloEditor2", role: .editor, organizationID: id)
            await #expect(throws: ContactStoreError.self) { try await store.addUser(login: editor, password: "hesloDruhe1", role: .reader, organizationID: id) }
            let signed = try #require(try await store.signIn(login: editor, password: "hesloEditor2"))
            #expect(signed.organization.id == id && signed.account.role == .editor)
            #expect(try await store.signIn(login: editor, password: "spatne") == nil)
            #expect(try await store.users(organizationID: id).map(\.login) == [admin, editor])
            // The last admin keeps the role and stays.
            await #expect(throws: ContactStoreError.self) { _ = try await store.updateUser(login: admin, organizationID: id, role: .reader, password: nil) }
            await #expect(throws: ContactStoreError.self) { try await store.removeUser(login: admin, organizationID: id) }
            let credentials = try await store.credentialsVersion()
            let promoted = try await store.updateUser(login: editor, organizationID: id, role: .admin, password: nil)
            #expect(promoted.role == .admin && promoted.sessionEpoch == signed.account.sessionEpoch)
            #expect(try await store.credentialsVersion() > credentials)
            // A new password ends the sessions; the old one no longer signs in.
            let renewed = try await store.updateUser(login: editor, organizationID: id, role: nil, password: "nove-heslo")
            #expect(renewed.sessionEpoch == promoted.sessionEpoch + 1)
            #expect(try await store.signIn(login: editor, password: "hesloEditor2") == nil)
            #expect(try await store.signIn(login: editor, password: "nove-heslo") != nil)
            // The password rule on both paths that set one: 10 characters (Unicode scalars) at least,
            // not the login; a refused new password leaves the old one.
            for login in ["new-\(suffix)", editor] {
                for (password, reason) in [("123456789", "at least 10 characters; this one has 9"), ("", "empty"),
                                           (login.uppercased(), "must not be the login"), (" \(login) ", "must not be the login")] {
                    let error = await #expect(throws: ContactStoreError.self) {
                        if login == editor {
                            _ = try await store.updateUser(login: editor, organizationID: id, role: nil, password: password)
                        } else {
                            try await store.addUser(login: login, password: password, role: .reader, organizationID: id)
                        }
                    }
                    #expect(error?.code == .invalidInput && error?.message.contains(reason) == true, "\(login) \(password): \(error?.message ?? "")")
                }
            }
            #expect(try await store.user(login: "new-\(suffix)") == nil)
            #expect(try await store.signIn(login: editor, password: "nove-heslo") != nil)
            try await store.addUser(login: "new-\(suffix)", password: "čtyřiadvac", role: .reader, organizationID: id)
            try await store.removeUser(login: "new-\(suffix)", organizationID: id)
            try await store.endSessions(login: editor, organizationID: id)
            #expect(try await store.user(login: editor)?.sessionEpoch == renewed.sessionEpoch + 1)
            try await store.removeUser(login: admin, organizationID: id)
            #expect(try await store.user(login: admin) == nil)
            await #expect(throws: ContactStoreError.self) { try await store.removeUser(login: "nobody-\(suffix)", organizationID: id) }
            #expect(try await store.sessionKey().count == 32)
        }
    }

    @Test(arguments: Engine.available)
    func theCommitCounterAndTheChangeSource(engine: Engine) async throws {
        try await engine.withStore { store, organization in
            let id = organization.id
            let counter = try await store.commitCounter()
            _ = try await store.create(try contact([.firstName: "Jan", .phone1: "+420601000001"]), organizationID: id)
            #expect(try await store.commitCounter() != counter)
            #expect(try await store.committedOrganizations().contains { $0.id == id && $0.version == 1 })
            // What an index follower reads, from a thread of its own.
            let source = store.changeSource(organizationID: id)
            let (load, batch) = try await withCheckedThrowingContinuation { continuation in
                Thread { continuation.resume(with: Result { (try source.loadAll(), try source.changes(after: 0, limit: 10)) }) }.start()
            }
            #expect(load.version == 1 && load.contacts.count == 1 && batch.changes.count == 1)
        }
    }

    @Test(arguments: Engine.available)
    func anImportThroughTheContract(engine: Engine) async throws {
        try await engine.withStore { store, organization in
            // A dry run reports what the import would do, and changes nothing.
            let checked = try await store.importContacts(
                csv: Fixtures.maximalCSV, organizationID: organization.id, validator: validator, dryRun: true)
            #expect(checked.created == 2 && checked.version == 0)
            #expect(try await store.fullLoad(organizationID: organization.id).contacts.isEmpty)
            #expect(try await store.organization(id: organization.id)?.version == 0)
            let report = try await store.importContacts(csv: Fixtures.maximalCSV, organizationID: organization.id, validator: validator, dryRun: false)
            #expect(report.created == 2 && report.version == 1)
            // A first import (PostgreSQL writes it straight into the table): ids in the file's
            // order, each contact logged, the next id after them.
            let first = try await store.fullLoad(organizationID: organization.id)
            #expect(first.contacts.map(\.id) == [1, 2] && first.contacts.allSatisfy { $0.version == 1 })
            let feed = try await store.changes(organizationID: organization.id, after: 0, limit: 10)
            #expect(!feed.resync && feed.version == 1 && feed.changes.map(\.version) == [1, 1])
            #expect(Set(feed.changes.compactMap { if case .upsert(let stored) = $0 { stored } else { nil } }) == Set(first.contacts))
            let again = try await store.importContacts(csv: Fixtures.maximalCSV, organizationID: organization.id, validator: validator, dryRun: false)
            #expect(again.unchanged == 2 && again.created == 0 && again.version == 1, "the same file again changes nothing")
            await #expect(throws: ImportRejection.self) {
                _ = try await store.importContacts(csv: Array("nonsense\n".utf8), organizationID: organization.id, validator: validator, dryRun: false)
            }
            let smaller = Array("firstName;phone1\nJana;+420601222333\n".utf8)
            let wouldBe = try await store.importContacts(csv: smaller, organizationID: organization.id, validator: validator, dryRun: true)
            #expect(wouldBe.created == 1 && wouldBe.deleted == 2 && wouldBe.version == 1)
            let load = try await store.fullLoad(organizationID: organization.id)
            #expect(load.contacts.count == 2 && load.version == 1)
            #expect(try await store.changes(organizationID: organization.id, after: 1, limit: 10).changes.isEmpty)
            // Search by name, organization, email or externalId.
            #expect(try await store.searchContacts(organizationID: organization.id, text: "novák", afterID: 0, limit: 10).map(\.contact.displayName) == ["Jan Novák"])
            #expect(try await store.searchContacts(organizationID: organization.id, text: "IPEX", afterID: 0, limit: 10).count == 1)
            #expect(try await store.searchContacts(organizationID: organization.id, text: "36936", afterID: 0, limit: 10).count == 1)
            #expect(try await store.searchContacts(organizationID: organization.id, text: "%", afterID: 0, limit: 10).isEmpty)
            #expect(try await store.searchContacts(organizationID: organization.id, text: "N", afterID: 1, limit: 10).map(\.id) == [2])
        }
    }
}

/// Two nodes on one PostgreSQL server: concurrent single writes to one organization through
/// both take their turns on its row lock.
@Suite(.enabled(if: postgresURL != nil, "set CALLER_LOOKUP_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct PostgresTwoNodeTests {
    @Test func concurrentWritesThroughTwoNodesGiveAGapFreeFeed() async throws {
        let url = try #require(postgresURL)
        let (a, b) = (try PostgresStore(url: url, patience: .seconds(30)), try PostgresStore(url: url, patience: .seconds(30)))
        let validator = PhoneNumberValidator()
        try await withThrowingTaskGroup(of: Void.self) { pools in
            pools.addTask { await a.run() }
            pools.addTask { await b.run() }
            defer { pools.cancelAll() }
            try await a.migrate()
            let organization = try await a.createOrganization(name: "two-nodes-\(UUID().uuidString.prefix(8))")
            let id = organization.id
            let versions = try await withThrowingTaskGroup(of: Int64.self) { writers in
                for index in 0..<60 {
                    let node = index % 2 == 0 ? a : b
                    writers.addTask {
                        let contact = try Contact.validate(
                            [.lastName: "Writer \(index)", .phone1: "+4206010\(String(format: "%05d", index))"], validator: validator).get()
                        return try await node.create(contact, organizationID: id).version
                    }
                }
                return try await writers.reduce(into: []) { $0.append($1) }
            }
            #expect(versions.sorted() == Array(1...60), "every write its own version, none lost")
            let feed = try await b.changes(organizationID: id, after: 0, limit: 1_000)
            #expect(feed.changes.map(\.version) == Array(1...60))
            #expect(Set(feed.changes.compactMap { if case .upsert(let stored) = $0 { stored.id } else { nil } }).count == 60)
            #expect(try await a.fullLoad(organizationID: id).contacts == (try await b.fullLoad(organizationID: id).contacts))
        }
    }
}

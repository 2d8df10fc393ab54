public import Contacts
import Foundation
public import PhoneNumbers
public import StoreContract
import ThreadSupport

/// The SQLite store as a `RecordStore`: reads on its reader connections, writes on its writer
/// thread.
public struct SQLiteRecordStore: RecordStore {
    public let store: SQLiteStore
    public var engine: String { "sqlite" }

    public init(_ store: SQLiteStore) { self.store = store }

    /// A store that cannot be reached just now (its file locked by another process, its disk
    /// failing) is `ContactStoreError.unavailable`, as for every engine.
    private static func mapped<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as SQLiteError where error.isUnavailable {
            throw ContactStoreError(.unavailable, "The SQLite store is unavailable just now: \(error.message)")
        }
    }

    private func read<T: Sendable>(_ work: @escaping @Sendable (SQLiteStore) throws -> T) async throws -> T {
        try await Self.mapped { try await store.read(work) }
    }

    private func write<T: Sendable>(_ work: @escaping @Sendable (SQLiteStore) throws -> T) async throws -> T {
        try await Self.mapped { try await store.write(work) }
    }

    public func organization(id: Int64) async throws -> Organization? { try await read { try $0.organization(id: id) } }
    public func committedOrganizations() async throws -> [Organization] { try await read { try $0.committedOrganizations() } }
    public func committedOrganizationsBlocking() throws -> [Organization] { try store.committedOrganizations() }
    public func signIn(login: String, password: String) async throws -> SignedInUser? {
        // The slow hash on a dispatch thread, not on one of the store's two readers.
        let store = self.store
        return try await Self.mapped { try await offCooperativePool { try store.signIn(login: login, password: password) } }
    }
    public func user(login: String) async throws -> UserAccount? { try await read { try $0.user(login: login) } }
    public func users(organizationID: Int64) async throws -> [UserAccount] { try await read { try $0.users(organizationID: organizationID) } }
    public func addUser(login: String, password: String, role: UserRole, organizationID: Int64) async throws {
        // The slow hash first, off the writer thread.
        let store = self.store
        try await Self.mapped {
            try await offCooperativePool { try store.addUser(login: login, password: password, role: role, organizationID: organizationID) }
        }
    }
    public func updateUser(login: String, organizationID: Int64, role: UserRole?, password: String?) async throws -> UserAccount {
        let store = self.store
        return try await Self.mapped {
            try await offCooperativePool { try store.updateUser(login: login, organizationID: organizationID, role: role, password: password) }
        }
    }
    public func endSessions(login: String, organizationID: Int64) async throws {
        try await write { try $0.endSessions(login: login, organizationID: organizationID) }
    }
    public func removeUser(login: String, organizationID: Int64) async throws {
        try await write { try $0.removeUser(login: login, organizationID: organizationID) }
    }
    public func sessionKey() async throws -> [UInt8] { store.sessionKey() }
    public func authenticate(token: String) async throws -> TokenGrant? { try await read { try $0.authenticate(token: token) } }
    public func tokens(organizationID: Int64) async throws -> [AccessToken] { try await read { try $0.tokens(organizationID: organizationID) } }
    public func createToken(organizationID: Int64, scope: AccessScope, label: String) async throws -> (token: AccessToken, secret: String) {
        try await write { try $0.createToken(organizationID: organizationID, scope: scope, label: label) }
    }
    public func revokeToken(id: Int64, organizationID: Int64) async throws -> AccessToken {
        try await write { try $0.revokeToken(id: id, organizationID: organizationID) }
    }
    public func credentialsVersion() async throws -> Int64 { try await read { try $0.credentialsVersion() } }
    public func popupToken(organizationID: Int64) async throws -> String { try await read { try $0.popupToken(organizationID: organizationID) } }
    public func rotatePopupToken(organizationID: Int64) async throws -> String {
        try await write { try $0.rotatePopupToken(organizationID: organizationID) }
    }
    public func organization(popupToken: String) async throws -> Organization? { try await read { try $0.organization(popupToken: popupToken) } }
    public func updateOrganization(id: Int64, defaultRegion: String?, suffixDigits: Int?) async throws -> (before: Organization, after: Organization) {
        try await write { try $0.updateOrganization(id: id, defaultRegion: defaultRegion, suffixDigits: suffixDigits) }
    }

    public func setLabels(_ changes: [ContactField: String?], organizationID: Int64) async throws -> Organization {
        try await write { try $0.setLabels(changes, organizationID: organizationID) }
    }

    public func contact(id: Int64, organizationID: Int64) async throws -> StoredContact? {
        try await read { try $0.contact(id: id, organizationID: organizationID) }
    }
    public func contactsPage(organizationID: Int64, afterID: Int64, limit: Int) async throws -> [StoredContact] {
        try await read { try $0.contactsPage(organizationID: organizationID, afterID: afterID, limit: limit) }
    }
    public func searchContacts(organizationID: Int64, text: String, afterID: Int64, limit: Int) async throws -> [StoredContact] {
        try await read { try $0.searchContacts(organizationID: organizationID, text: text, afterID: afterID, limit: limit) }
    }
    public func apply(_ writes: [ContactWrite], organizationID: Int64) async throws -> (results: [BatchResult], version: Int64) {
        try await write { try $0.apply(writes, organizationID: organizationID) }
    }
    public func syncSources(organizationID: Int64?) async throws -> [SyncSource] { try await read { try $0.syncSources(organizationID: organizationID) } }
    public func addSyncSource(_ definition: SyncDefinition, organizationID: Int64) async throws -> SyncSource {
        try await write { try $0.addSyncSource(definition, organizationID: organizationID) }
    }
    public func removeSyncSource(id: Int64, organizationID: Int64) async throws {
        try await write { try $0.removeSyncSource(id: id, organizationID: organizationID) }
    }
    public func claimSyncSource(
        id: Int64, organizationID: Int64, holder: String, now: Double, leaseUntil: Double, slot: Int64?
    ) async throws -> SyncSource? {
        try await write { try $0.claimSyncSource(id: id, organizationID: organizationID, holder: holder, now: now, leaseUntil: leaseUntil, slot: slot) }
    }
    public func finishSyncRun(_ run: SyncRun, organizationID: Int64, holder: String, validators: SyncValidators?) async throws -> Int64? {
        try await write { try $0.finishSyncRun(run, organizationID: organizationID, holder: holder, validators: validators) }
    }
    public func syncRuns(sourceID: Int64, organizationID: Int64, limit: Int) async throws -> [SyncRun] {
        try await read { try $0.syncRuns(sourceID: sourceID, organizationID: organizationID, limit: limit) }
    }
    public func importContacts(_ source: ImportSource, organizationID: Int64, validator: PhoneNumberValidator, options: ImportOptions) async throws -> ImportReport {
        try await write { try $0.importContacts(source, organizationID: organizationID, validator: validator, options: options) }
    }

    public func changes(organizationID: Int64, after since: Int64, limit: Int) async throws -> ChangeBatch {
        try await read { try $0.changes(organizationID: organizationID, after: since, limit: limit) }
    }
    public func fullLoad(organizationID: Int64) async throws -> FullLoad { try await read { try $0.fullLoad(organizationID: organizationID) } }
    public func commitCounter() async throws -> Int64 { try await read { try $0.commitCounter() } }
    /// SQLite announces nothing; its commit counter is one page-cache read, polled.
    public func watchCommits(_ commit: @escaping @Sendable () -> Void) async throws {}
    public func changeSource(organizationID: Int64) -> any ChangeSource { StoreChangeSource(store: store, organizationID: organizationID) }
}

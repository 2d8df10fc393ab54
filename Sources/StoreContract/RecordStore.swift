public import Contacts
import Foundation
public import PhoneNumbers

/// The store of record as a serving node uses it, whatever the engine: the embedded SQLite store
/// (`SQLiteRecordStore`) or PostgreSQL shared by several nodes (`PostgresStore`).
///
/// Every write is one transaction with the organization's next version and its change-log
/// entries; reads see committed data only. Every method is async and never blocks the caller's
/// thread: the SQLite engine runs on threads of its own, PostgreSQL on its event loops.
public protocol RecordStore: Sendable {
    /// A short name for logs and `/health`: `sqlite` or `postgresql`.
    var engine: String { get }

    // MARK: Organizations, users, credentials

    func organization(id: Int64) async throws -> Organization?
    /// Changes an organization's default region and/or suffix length (the rules it was created
    /// by); returns it before and after.
    func updateOrganization(id: Int64, defaultRegion: String?, suffixDigits: Int?) async throws -> (before: Organization, after: Organization)
    /// Every organization, as committed now.
    func committedOrganizations() async throws -> [Organization]
    /// `committedOrganizations`, waiting on the calling thread: for the index followers' own
    /// threads (never Swift's cooperative pool).
    func committedOrganizationsBlocking() throws -> [Organization]
    /// The user and organization of these credentials, or `nil` (the hash is checked off the
    /// caller's thread; an unknown login takes as long as a wrong password).
    func signIn(login: String, password: String) async throws -> SignedInUser?
    /// The user with this login, whatever their organization.
    func user(login: String) async throws -> UserAccount?
    func users(organizationID: Int64) async throws -> [UserAccount]
    func addUser(login: String, password: String, role: UserRole, organizationID: Int64) async throws
    /// Changes a user's role, password (ending their sessions), or both; never demotes the last admin.
    func updateUser(login: String, organizationID: Int64, role: UserRole?, password: String?) async throws -> UserAccount
    /// Ends every admin-page session of the user.
    func endSessions(login: String, organizationID: Int64) async throws
    /// Removes a user; never the organization's last admin.
    func removeUser(login: String, organizationID: Int64) async throws
    /// The key that signs the admin pages' session cookies, the same on every node of the store.
    func sessionKey() async throws -> [UInt8]
    /// The organization and scope of an unrevoked access token, or `nil`.
    func authenticate(token: String) async throws -> TokenGrant?
    func tokens(organizationID: Int64) async throws -> [AccessToken]
    func createToken(organizationID: Int64, scope: AccessScope, label: String) async throws -> (token: AccessToken, secret: String)
    func revokeToken(id: Int64, organizationID: Int64) async throws -> AccessToken
    /// Moves whenever credentials stop being valid (a token revoked, a popup link rotated).
    func credentialsVersion() async throws -> Int64
    func popupToken(organizationID: Int64) async throws -> String
    func rotatePopupToken(organizationID: Int64) async throws -> String
    func organization(popupToken: String) async throws -> Organization?
    func setLabels(_ changes: [ContactField: String?], organizationID: Int64) async throws -> Organization

    // MARK: Contacts

    func contact(id: Int64, organizationID: Int64) async throws -> StoredContact?
    func contactsPage(organizationID: Int64, afterID: Int64, limit: Int) async throws -> [StoredContact]
    /// Contacts whose name, organization or email contains `text`, or whose `externalId` is it.
    func searchContacts(organizationID: Int64, text: String, afterID: Int64, limit: Int) async throws -> [StoredContact]
    /// The writes, in order, in one transaction with the organization's next version, each by
    /// `ContactWrite`'s rules: all of them, or — when one fails (`BatchFailure` naming it) — none.
    /// `create`, `update`, `delete`, `upsert` and `applyBatch` are written over it, once.
    func apply(_ writes: [ContactWrite], organizationID: Int64) async throws -> (results: [BatchResult], version: Int64)
    /// An import, replace-all; `ImportRejection` when refused (by the file, or by `options`' limit
    /// on deletes), and then nothing changed. A dry run reports what the import would do and
    /// changes nothing.
    func importContacts(_ source: ImportSource, organizationID: Int64, validator: PhoneNumberValidator, options: ImportOptions) async throws -> ImportReport

    // MARK: CRM sync sources

    /// The organization's sync sources by id; every organization's when `organizationID` is `nil`.
    func syncSources(organizationID: Int64?) async throws -> [SyncSource]
    func addSyncSource(_ definition: SyncDefinition, organizationID: Int64) async throws -> SyncSource
    /// Removes a source and its runs (`notFound` when the organization has no such source).
    func removeSyncSource(id: Int64, organizationID: Int64) async throws
    /// Claims the source for one run by `holder` until `leaseUntil` (Unix seconds), in one
    /// statement, so of several nodes exactly one wins: `nil` when another holder's lease has not
    /// run out at `now`, or — for a scheduled run (`slot`) — when that slot has been claimed.
    func claimSyncSource(id: Int64, organizationID: Int64, holder: String, now: Double, leaseUntil: Double, slot: Int64?) async throws -> SyncSource?
    /// Records a finished run (keeping the source's last `SyncRun.kept`), ends `holder`'s lease,
    /// and keeps `validators` for the next fetch when given; the kept run's id. A source removed
    /// meanwhile keeps nothing (`nil`).
    @discardableResult
    func finishSyncRun(_ run: SyncRun, organizationID: Int64, holder: String, validators: SyncValidators?) async throws -> Int64?
    /// The source's runs, newest first.
    func syncRuns(sourceID: Int64, organizationID: Int64, limit: Int) async throws -> [SyncRun]

    // MARK: The change feed

    func changes(organizationID: Int64, after since: Int64, limit: Int) async throws -> ChangeBatch
    func fullLoad(organizationID: Int64) async throws -> FullLoad
    /// A number that moves whenever anything commits (any process, any node). Followers poll it.
    func commitCounter() async throws -> Int64
    /// Calls `commit` for commits as the engine announces them (PostgreSQL's `NOTIFY`), until the
    /// task is cancelled; throws when the announcements stop (a lost connection). An engine
    /// without announcements returns at once: its followers poll `commitCounter` alone.
    func watchCommits(_ commit: @escaping @Sendable () -> Void) async throws
    /// The organization as a `ChangeSource` for an index follower, which reads it on a thread of
    /// its own (never on Swift's cooperative pool).
    func changeSource(organizationID: Int64) -> any ChangeSource
}

extension RecordStore {
    /// A CSV file of the import contract, replace-all.
    public func importContacts(csv bytes: [UInt8], organizationID: Int64, validator: PhoneNumberValidator, dryRun: Bool = false) async throws -> ImportReport {
        try await importContacts(.csv(bytes), organizationID: organizationID, validator: validator, options: ImportOptions(dryRun: dryRun))
    }
}

public import Contacts

/// One change of one contact, as the REST API, the admin pages and batches ask for it. Every
/// engine applies a list of them in one transaction (`RecordStore.apply`) by these rules: look the
/// contact up by `key`, then do what `step(existing:)` says.
public enum ContactWrite: Sendable {
    /// Insert; a taken `externalId` is `duplicateExternalId`.
    case create(Contact)
    /// Change the contact by `edit`, which gets its current values (PUT, PATCH) and may throw to refuse.
    case edit(id: Int64, @Sendable (Contact) throws -> Contact)
    case delete(id: Int64)
    /// Replace the contact with the same `externalId`, or create one (always, without an `externalId`).
    case upsert(Contact)
    case deleteExternal(String)

    package init(_ operation: BatchOperation) {
        switch operation {
        case .upsert(let contact): self = .upsert(contact)
        case .delete(let id): self = .delete(id: id)
        case .deleteExternal(let externalId): self = .deleteExternal(externalId)
        }
    }

    /// How a write finds the contact it changes, if it changes one.
    public enum Key: Sendable {
        case id(Int64)
        /// Never empty: an empty `externalId` names no contact.
        case externalId(String)
    }

    /// What an engine does once it looked the contact up.
    public enum Step: Sendable {
        case insert(Contact)
        case update(id: Int64, to: Contact)
        case keep(StoredContact)
        case delete(id: Int64)
    }

    /// The contact the write is about, for the engine to look up before `step(existing:)`.
    package var key: Key? {
        switch self {
        case .create: nil
        case .edit(let id, _), .delete(let id): .id(id)
        case .upsert(let contact): contact[.externalId].isEmpty ? nil : .externalId(contact[.externalId])
        case .deleteExternal(let externalId): externalId.isEmpty ? nil : .externalId(externalId)
        }
    }

    /// What to do given the contact `key` found (`nil`: none), or the rule the write breaks.
    package func step(existing: StoredContact?) throws -> Step {
        switch self {
        case .create(let contact):
            return .insert(contact)
        case .edit(let id, let edit):
            guard let existing else { throw ContactStoreError(.notFound, "Contact \(id) does not exist.") }
            let contact = try edit(existing.contact)
            return contact == existing.contact ? .keep(existing) : .update(id: existing.id, to: contact)
        case .delete(let id):
            guard existing != nil else { throw ContactStoreError(.notFound, "Contact \(id) does not exist.") }
            return .delete(id: id)
        case .upsert(let contact):
            guard let existing else { return .insert(contact) }
            return existing.contact == contact ? .keep(existing) : .update(id: existing.id, to: contact)
        case .deleteExternal(let externalId):
            guard let existing else { throw ContactStoreError(.notFound, "No contact has externalId '\(externalId)'.") }
            return .delete(id: existing.id)
        }
    }
}

extension BatchResult {
    /// The contact as stored after the write; `nil` for a delete.
    package var stored: StoredContact? {
        switch self {
        case .created(let stored), .updated(let stored), .unchanged(let stored): stored
        case .deleted: nil
        }
    }

    /// An upsert's contact, and whether it was created.
    package var upserted: (StoredContact, created: Bool) {
        if case .created(let stored) = self { return (stored, true) }
        return (stored!, false)
    }
}

/// The rules of writes over `RecordStore.apply`, the same for every engine.
package enum WriteRules {
    /// `upsert(externalId:contact:)`'s precondition: the contact carries the `externalId` of its URL.
    package static func checkUpsert(externalId: String, contact: Contact) throws {
        guard contact[.externalId] == externalId, !externalId.isEmpty else {
            throw ContactStoreError(.invalidInput, "The contact's externalId must be '\(externalId)'.")
        }
    }

    /// Each write in order by `perform`; a `ContactStoreError` becomes the `BatchFailure` naming the
    /// write. For an engine whose transaction runs on a thread of its own.
    package static func each(_ writes: [ContactWrite], _ perform: (ContactWrite) throws -> BatchResult) throws -> [BatchResult] {
        var results: [BatchResult] = []
        results.reserveCapacity(writes.count)
        for (index, write) in writes.enumerated() {
            do {
                results.append(try perform(write))
            } catch let error as ContactStoreError {
                throw BatchFailure(index: index, error: error)
            }
        }
        return results
    }

    /// `each`, for an engine whose transaction awaits its server.
    package static func each(_ writes: [ContactWrite], _ perform: (ContactWrite) async throws -> BatchResult) async throws -> [BatchResult] {
        var results: [BatchResult] = []
        results.reserveCapacity(writes.count)
        for (index, write) in writes.enumerated() {
            do {
                results.append(try await perform(write))
            } catch let error as ContactStoreError {
                throw BatchFailure(index: index, error: error)
            }
        }
        return results
    }

    /// The one write of a single-contact call: its result, and its failure as itself.
    package static func single(_ apply: () throws -> (results: [BatchResult], version: Int64)) throws -> (result: BatchResult, version: Int64) {
        do {
            let (results, version) = try apply()
            return (results[0], version)
        } catch let failure as BatchFailure {
            throw failure.error
        }
    }

    /// `single`, for an engine that awaits its server.
    package static func single(_ apply: () async throws -> (results: [BatchResult], version: Int64)) async throws -> (result: BatchResult, version: Int64) {
        do {
            let (results, version) = try await apply()
            return (results[0], version)
        } catch let failure as BatchFailure {
            throw failure.error
        }
    }
}

/// The single-contact writes and batches, written once over the engine's `apply`.
extension RecordStore {
    /// Creates a contact. Throws `duplicateExternalId` when its `externalId` is taken.
    public func create(_ contact: Contact, organizationID: Int64) async throws -> StoredContact {
        try await single(.create(contact), organizationID).stored!
    }

    /// Replaces a contact's values (PUT). Unchanged values write nothing.
    public func replace(id: Int64, with contact: Contact, organizationID: Int64) async throws -> StoredContact {
        try await single(.edit(id: id) { _ in contact }, organizationID).stored!
    }

    /// Changes a contact by `edit`, which gets its current values (PATCH) and may throw to refuse.
    public func update(id: Int64, organizationID: Int64, _ edit: @escaping @Sendable (Contact) throws -> Contact) async throws -> StoredContact {
        try await single(.edit(id: id, edit), organizationID).stored!
    }

    /// Deletes a contact; returns the organization's version with the delete.
    public func delete(id: Int64, organizationID: Int64) async throws -> Int64 {
        try await WriteRules.single { try await apply([.delete(id: id)], organizationID: organizationID) }.version
    }

    /// Creates or replaces the contact with this `externalId` (which the contact must carry).
    public func upsert(externalId: String, contact: Contact, organizationID: Int64) async throws -> (StoredContact, created: Bool) {
        try WriteRules.checkUpsert(externalId: externalId, contact: contact)
        return try await single(.upsert(contact), organizationID).upserted
    }

    /// All of the operations, or — when one fails (`BatchFailure`) — none.
    public func applyBatch(_ operations: [BatchOperation], organizationID: Int64) async throws -> (results: [BatchResult], version: Int64) {
        try await apply(operations.map(ContactWrite.init), organizationID: organizationID)
    }

    private func single(_ write: ContactWrite, _ organizationID: Int64) async throws -> BatchResult {
        try await WriteRules.single { try await apply([write], organizationID: organizationID) }.result
    }
}

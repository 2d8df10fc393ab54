import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StoreContract

/// `POST /v3/contacts/batch`: many upserts and deletes in one transaction, a result per item.
///
/// Body: `{"operations":[{"op":"upsert","contact":{…}}, {"op":"delete","id":5},
/// {"op":"delete","externalId":"crm-7"}]}` (at most 10,000 operations, 10 MiB). Every item is
/// checked first; if any is invalid the answer is 422 with every item's result and nothing is
/// written. A store failure (unknown id, duplicate externalId) rolls the whole batch back.
extension Handlers {
    static let batchBodyLimit = 10 << 20
    static let batchOperationLimit = 10_000

    @Sendable func batch(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let items = try ContactInput.batch(from: try await jsonBody(request, limit: Self.batchBodyLimit))
        guard items.count <= Self.batchOperationLimit else {
            return HTTPAnswer.error(.contentTooLarge, "A batch has at most \(Self.batchOperationLimit) operations.")
        }
        // Check every item before writing anything.
        var operations: [BatchOperation] = []
        var problems: [(Int, InputError)] = []
        for (index, item) in items.enumerated() {
            do {
                operations.append(try operation(item))
            } catch {
                problems.append((index, error))
            }
        }
        if !problems.isEmpty {
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("error", "\(problems.count) of \(items.count) operations are invalid; nothing was written.")
            writer.key("results")
            writer.beginArray()
            // The first ones, like an import's report: the answer stays small whatever the input.
            for (index, problem) in problems.prefix(RejectedRowList.listLimit) {
                writer.beginObject()
                writer.field("index", index)
                writer.field("status", Int(problem.status.code))
                writer.field("error", problem.message)
                writer.endObject()
            }
            writer.endArray()
            writer.field("errorsOmitted", max(0, problems.count - RejectedRowList.listLimit))
            writer.endObject()
            return HTTPAnswer.json(.unprocessableContent, writer.bytes)
        }
        do {
            let batch = operations
            let (results, version) = try await state.store.applyBatch(batch, organizationID: organization.id)
            await state.indexes.awaitVersion(version, of: organization.id)
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("version", Int(version))
            writer.key("results")
            writer.beginArray()
            for (index, result) in results.enumerated() {
                let (status, id, contact): (Int, Int64, StoredContact?) =
                    switch result {
                    case .created(let stored): (201, stored.id, stored)
                    case .updated(let stored): (200, stored.id, stored)
                    case .unchanged(let stored): (200, stored.id, stored)
                    case .deleted(let id): (204, id, nil)
                    }
                writer.beginObject()
                writer.field("index", index)
                writer.field("status", status)
                writer.field("id", Int(id))
                if let contact {
                    writer.key("contact")
                    contact.contact.writeJSON(id: contact.id, version: contact.version, to: &writer)
                }
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
            return HTTPAnswer.json(.ok, writer.bytes)
        } catch let failure as BatchFailure {
            let status = failure.error.status
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("error", "Operation \(failure.index) failed, so nothing of the batch was written: \(failure.error.message)")
            writer.key("results")
            writer.beginArray()
            writer.beginObject()
            writer.field("index", failure.index)
            writer.field("status", Int(status.code))
            writer.field("error", failure.error.message)
            writer.endObject()
            writer.endArray()
            writer.endObject()
            return HTTPAnswer.json(status, writer.bytes)
        }
    }

    private func operation(_ item: ContactInput.BatchItem) throws(InputError) -> BatchOperation {
        switch item.op {
        case "upsert":
            guard let object = item.contact, item.keys == ["op", "contact"] else {
                throw InputError("An upsert is {\"op\":\"upsert\",\"contact\":{…}}, nothing else.")
            }
            return .upsert(try ContactInput.contact(try ContactInput.fields(of: object), validator: state.validator))
        case "delete":
            if let id = item.id, id > 0, item.keys == ["op", "id"] { return .delete(id: id) }
            if let externalId = item.externalId, !externalId.isEmpty, item.keys == ["op", "externalId"] {
                return .deleteExternal(externalId)
            }
            throw InputError("A delete is {\"op\":\"delete\",\"id\":N} or {\"op\":\"delete\",\"externalId\":\"…\"}, nothing else.")
        default:
            throw InputError("Unknown op '\(item.op)'; use \"upsert\" or \"delete\".")
        }
    }
}

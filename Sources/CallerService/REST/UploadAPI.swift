import Contacts
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import LookupIndex
import NIOCore
import PhoneNumbers
import StoreContract
import ThreadSupport

/// The CSV upload (docs/contract.md) and the number validator.
extension Handlers {
    // MARK: Upload

    @Sendable func upload(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let dryRun = try Query(context).flag("dryRun") ?? false
        let upload = Upload(state: state, logger: context.logger)
        let file: [UInt8]
        switch await upload.form(of: request) {
        case .success(let form): file = form.file
        case .failure(let refusal): return refusal.response
        }
        let outcome = await upload.run(file, organization: organization, dryRun: dryRun)
        return outcome.response
    }

    // MARK: Validator

    @Sendable func validate(_ request: Request, context: CallerRequestContext) async throws -> Response {
        _ = try organization(context)
        let number = try context.pathParameter("phoneNumber")
        guard number.unicodeScalars.count <= 64 else { return HTTPAnswer.error(.badRequest, "A phone number has at most 64 characters.") }
        let region = try Query(context).string("region")
        return HTTPAnswer.json(.ok, PhoneNumberReport(checking: number, region: region, validator: state.validator).json)
    }
}

/// A CSV upload, for the API and the upload page alike: the file read from the multipart body
/// within the size limit, then imported (or dry-run) by the store, the outcome logged and counted.
struct Upload {
    let state: ServiceState
    let logger: Logger

    /// A refused request or file, as the API answers it.
    struct Refusal: Error {
        let status: HTTPResponse.Status
        let rejection: ImportRejection
        var retryAfter: Int?

        var response: Response {
            var response = HTTPAnswer.json(status, rejection.json)
            if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
            return response
        }
    }

    enum Outcome {
        case imported(ImportReport)
        case refused(Refusal)

        var response: Response {
            switch self {
            case .imported(let report): HTTPAnswer.json(.ok, report.json)
            case .refused(let refusal): refusal.response
            }
        }
    }

    private func refusal(_ status: HTTPResponse.Status, _ message: String) -> Refusal {
        state.metrics.upload(status == .contentTooLarge ? "too_large" : status == .unsupportedMediaType ? "not_multipart" : "rejected")
        return Refusal(status: status, rejection: ImportRejection(message))
    }

    /// The bytes of the form's `file` field, within `upload.limit`, and the text of `fields` (those
    /// the form has).
    func form(of request: Request, fields: [String] = []) async -> Result<(file: [UInt8], fields: [String: String]), Refusal> {
        let limit = state.configuration.uploadLimit
        let tooLarge = "The file is larger than \(limit / 1_048_576) MB; split it or remove unused columns."
        let contentType = request.headers[.contentType] ?? ""
        guard contentType.lowercased().hasPrefix("multipart/form-data") else {
            return .failure(refusal(
                .unsupportedMediaType, "The upload must be multipart/form-data with the CSV in the field 'file' (curl --form file=@import.csv)."))
        }
        guard let boundary = Multipart.boundary(contentType: contentType) else {
            return .failure(refusal(.badRequest, "The multipart/form-data Content-Type has no boundary."))
        }
        // The form around the file adds a few hundred bytes; anything beyond the limit plus 64 KiB
        // is refused while streaming, before it is buffered.
        let slack = 64 * 1024
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit + slack {
            return .failure(refusal(.contentTooLarge, tooLarge))
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit + slack)
        } catch {
            return .failure(refusal(.contentTooLarge, tooLarge))
        }
        let bytes = Array(buffer: body)
        let file: [UInt8]
        do {
            file = try Multipart.field("file", in: bytes, boundary: boundary, file: true)
        } catch {
            return .failure(refusal(.badRequest, error.message))
        }
        guard file.count <= limit else { return .failure(refusal(.contentTooLarge, tooLarge)) }
        var values: [String: String] = [:]
        for name in fields {
            if let value = try? Multipart.field(name, in: bytes, boundary: boundary) { values[name] = String(decoding: value, as: UTF8.self) }
        }
        return .success((file, values))
    }

    /// Imports `file` into the organization (or checks it, for a `dryRun`) on the store's own
    /// threads; a real import answers once this node's index has it.
    func run(_ file: [UInt8], organization: Organization, dryRun: Bool) async -> Outcome {
        let outcome: Result<ImportReport, any Error>
        do {
            outcome = .success(try await state.store.importContacts(
                csv: file, organizationID: organization.id, validator: state.validator, dryRun: dryRun))
        } catch {
            outcome = .failure(error)
        }
        // A refused file and its rows are garbage now: hand their pages back (see `ProcessMemory`).
        if case .failure = outcome { await offCooperativePool { ProcessMemory.releaseFreed() } }
        switch outcome {
        case .success(var report):
            report.dryRun = dryRun
            if !dryRun { await state.indexes.awaitVersion(report.version, of: organization.id) }
            // The file and its rows are garbage now, and the index rebuilt from them: hand their
            // pages back (see `ProcessMemory`) once the index has the upload.
            await offCooperativePool { ProcessMemory.releaseFreed() }
            logger.info(
                "upload", metadata: ["organization": "\(organization.name)", "imported": "\(report.imported)",
                                     "rejected": "\(report.rejected.count)", "version": "\(report.version)", "dryRun": "\(dryRun)"])
            state.metrics.upload(dryRun ? "checked" : "uploaded", imported: dryRun ? 0 : report.imported, rejectedRows: report.rejected.count)
            return .imported(report)
        case .failure(let rejection as ImportRejection):
            state.metrics.upload("rejected", rejectedRows: rejection.rejected.count)
            return .refused(Refusal(status: .badRequest, rejection: rejection))
        case .failure(let error as ContactStoreError) where error.code == .unavailable:
            logger.warning("upload: the store is unavailable", metadata: ["organization": "\(organization.name)", "error": "\(error)"])
            var refused = refusal(.serviceUnavailable, StoreUnavailable.message)
            refused.retryAfter = StoreUnavailable.retryAfterSeconds
            return .refused(refused)
        case .failure(let error):
            // The details (SQLite's message, the statement) go to the log, not to the client.
            logger.error("upload failed", metadata: ["organization": "\(organization.name)", "error": "\(error)"])
            return .refused(refusal(.internalServerError, "The import failed and nothing was changed; the server's log says why."))
        }
    }
}

import ContactStore
import Contacts
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import LookupIndex
import NIOCore
import PhoneNumbers

/// The CSV upload (SPEC §4) and the validator (SPEC §5).
extension Handlers {
    // MARK: Upload (SPEC §4)

    @Sendable func upload(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let limit = state.configuration.uploadLimit
        let metrics = state.metrics
        func rejected(_ status: HTTPResponse.Status, _ message: String) -> Response {
            metrics.upload(status == .contentTooLarge ? "too_large" : status == .unsupportedMediaType ? "not_multipart" : "rejected")
            return HTTPAnswer.json(status, ImportRejection(message).json)
        }
        let contentType = request.headers[.contentType] ?? ""
        guard contentType.lowercased().hasPrefix("multipart/form-data") else {
            return rejected(.unsupportedMediaType,
                            "The upload must be multipart/form-data with the CSV in the field 'file' (curl --form file=@import.csv).")
        }
        guard let boundary = Multipart.boundary(contentType: contentType) else {
            return rejected(.badRequest, "The multipart/form-data Content-Type has no boundary.")
        }
        // The form around the file adds a few hundred bytes; anything beyond the limit plus 64 KiB
        // is refused while streaming, before it is buffered.
        let slack = 64 * 1024
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit + slack {
            return rejected(.contentTooLarge, "The file is larger than \(limit / 1_048_576) MB; split it or remove unused columns.")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit + slack)
        } catch is NIOTooManyBytesError {
            return rejected(.contentTooLarge, "The file is larger than \(limit / 1_048_576) MB; split it or remove unused columns.")
        }
        let file: [UInt8]
        do {
            file = try Multipart.field("file", in: Array(buffer: body), boundary: boundary)
        } catch {
            return rejected(.badRequest, error.message)
        }
        guard file.count <= limit else {
            return rejected(.contentTooLarge, "The file is larger than \(limit / 1_048_576) MB; split it or remove unused columns.")
        }
        let state = self.state
        // Parsing, validating and writing a large file takes seconds: on the store's own threads.
        let outcome: Result<ImportReport, any Error>
        do {
            outcome = .success(try await state.store.importContacts(csv: file, organizationID: organization.id, validator: state.validator))
        } catch {
            outcome = .failure(error)
        }
        // The file and its rows are garbage now: hand their pages back (see `ProcessMemory`).
        await offCooperativePool { ProcessMemory.releaseFreed() }
        switch outcome {
        case .success(let report):
            await state.indexes.awaitVersion(report.version, of: organization.id)
            context.logger.info(
                "upload", metadata: ["organization": "\(organization.name)", "imported": "\(report.imported)",
                                     "rejected": "\(report.rejected.count)", "version": "\(report.version)"])
            metrics.upload("uploaded", imported: report.imported, rejectedRows: report.rejected.count)
            return HTTPAnswer.json(.ok, report.json)
        case .failure(let rejection as ImportRejection):
            metrics.upload("rejected", rejectedRows: rejection.rejected.count)
            return HTTPAnswer.json(.badRequest, rejection.json)
        case .failure(let error as ContactStoreError) where error.code == .unavailable:
            context.logger.warning("upload: the store is unavailable", metadata: ["organization": "\(organization.name)", "error": "\(error)"])
            var response = rejected(
                .serviceUnavailable,
                "The contact store is unavailable just now (its server is down, another process holds it, or its disk failed); nothing was changed. Try again in \(HTTPAnswer.storeRetrySeconds) s.")
            response.headers[.retryAfter] = String(HTTPAnswer.storeRetrySeconds)
            return response
        case .failure(let error):
            // The details (SQLite's message, the statement) go to the log, not to the client.
            context.logger.error("upload failed", metadata: ["organization": "\(organization.name)", "error": "\(error)"])
            return rejected(.internalServerError, "The import failed and nothing was changed; the server's log says why.")
        }
    }

    // MARK: Validator (SPEC §5)

    @Sendable func validate(_ request: Request, context: CallerRequestContext) async throws -> Response {
        _ = try organization(context)
        let number = try context.pathParameter("phoneNumber")
        guard number.unicodeScalars.count <= 64 else { return HTTPAnswer.error(.badRequest, "A phone number has at most 64 characters.") }
        let region = try Query(context).string("region")
        let verdict = region == nil ? state.validator.validateInternational(number) : state.validator.validate(number, defaultRegion: region)
        return HTTPAnswer.json(.ok, PhoneNumberReport(verdict: verdict, validator: state.validator).json)
    }
}

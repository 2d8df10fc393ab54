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

extension ContactStoreError {
    /// The one mapping of store errors to HTTP statuses: 404 for what does not exist,
    /// 409 for a duplicate, 422 for a value the store's rules refuse, 500 for the database.
    var status: HTTPResponse.Status {
        switch code {
        case .notFound, .unknownOrganization: .notFound
        case .duplicateExternalId, .organizationExists, .loginTaken: .conflict
        case .invalidInput, .unknownRegion: .unprocessableContent
        case .unavailable: .serviceUnavailable
        case .database: .internalServerError
        }
    }
}

/// JSON answers built from bytes, without a generic encoder.
enum HTTPAnswer {
    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        json(status, Array(text.utf8))
    }

    /// `{"error":"…"}`.
    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("error", message)
        writer.endObject()
        return json(status, writer.bytes)
    }

    /// 429 for a login with too many recent failures.
    static func throttled(login: String, retryAfter: Int) -> Response {
        var response = error(
            .tooManyRequests, "Too many failed logins for '\(login)'. Try again in \(retryAfter) s; the password was not checked.")
        response.headers[.retryAfter] = String(retryAfter)
        return response
    }

    /// The one answer to an error thrown below a handler: input errors with their own status and
    /// message, store errors by `ContactStoreError.status`, anything else a 500 that names no
    /// internals (no SQL text) — the details go to the log.
    /// `Retry-After` of a 503 for an unavailable store.
    static let storeRetrySeconds = 5

    static func failure(_ error: any Error, logger: Logger) -> Response {
        switch error {
        case let error as InputError:
            return json(HTTPResponse.Status(code: error.status), error.json)
        case let error as ContactStoreError where error.code != .database && error.code != .unavailable:
            return self.error(error.status, error.message)
        case let error as ContactStoreError where error.code == .unavailable:
            logger.warning("the store is unavailable", metadata: ["error": "\(Redaction.redacted("\(error)"))"])
            var response = self.error(
                .serviceUnavailable,
                "The contact store is unavailable just now (its server is down, another process holds it, or its disk failed); nothing was changed. Lookups keep answering. Try again in \(storeRetrySeconds) s.")
            response.headers[.retryAfter] = String(storeRetrySeconds)
            return response
        default:
            logger.error("request failed", metadata: ["error": "\(Redaction.redacted("\(error)"))"])
            return self.error(.internalServerError, "The request could not be completed and nothing was changed; the server's log says why.")
        }
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

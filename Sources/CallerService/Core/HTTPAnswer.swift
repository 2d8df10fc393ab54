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

    /// 500 for a failure whose details are for the log only (SQL text, a server's message).
    static func internalError(_ error: any Error, logger: Logger) -> Response {
        logger.error("request failed", metadata: ["error": "\(Redaction.redacted("\(error)"))"])
        return self.error(.internalServerError, "The request could not be completed and nothing was changed; the server's log says why.")
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

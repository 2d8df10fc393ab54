import Logging
import Contacts
public import HTTPTypes
public import Hummingbird
public import StoreContract

// The domain's errors know nothing of HTTP; here they learn to render themselves, each with one
// status and one text. `ErrorAnswers` lets every error thrown below a handler answer for itself.

extension InputError: HTTPResponseError {
    /// 400 for a request of the wrong form, 422 for a value the rules refuse.
    package var status: HTTPResponse.Status {
        switch kind {
        case .malformed: .badRequest
        case .refused: .unprocessableContent
        }
    }

    /// `{"error":"…","errors":[{"field","value","rule","message"}]}`.
    package func response(from request: Request, context: some RequestContext) throws -> Response {
        HTTPAnswer.json(status, json)
    }
}

extension ContactStoreError: HTTPResponseError {
    /// 404 for what does not exist, 409 for a duplicate, 422 for a value the store's rules refuse,
    /// 503 for a store that cannot be reached just now, 500 for a damaged one.
    public var status: HTTPResponse.Status {
        switch code {
        case .notFound, .unknownOrganization: .notFound
        case .duplicateExternalId, .organizationExists, .loginTaken: .conflict
        case .invalidInput, .unknownRegion: .unprocessableContent
        case .unavailable: .serviceUnavailable
        case .database: .internalServerError
        }
    }

    /// The message as it is, except for the store's own trouble: that goes to the log, and the
    /// client learns what it means for it (`StoreUnavailable`, or a 500 that names no internals).
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        switch code {
        case .unavailable:
            context.logger.warning("the store is unavailable", metadata: ["error": "\(Redaction.redacted(message))"])
            var response = HTTPAnswer.error(.serviceUnavailable, StoreUnavailable.message)
            response.headers[.retryAfter] = String(StoreUnavailable.retryAfterSeconds)
            return response
        case .database:
            return HTTPAnswer.internalError(self, logger: context.logger)
        default:
            return HTTPAnswer.error(status, message)
        }
    }
}

/// What a client is told when the store cannot be reached: one text for every route.
enum StoreUnavailable {
    static let retryAfterSeconds = 5
    static let message = """
        The contact store is unavailable just now (its server is down, another process holds it, or its disk failed); \
        nothing was changed. Lookups keep answering. Try again in \(retryAfterSeconds) s.
        """
}

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

/// Lets a request in only with valid HTTP Basic credentials; answers 401 with
/// `WWW-Authenticate: Basic` otherwise.
struct BasicAuthentication: RouterMiddleware {
    typealias Context = CallerRequestContext
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch await authenticator.authenticate(authorization: request.headers[.authorization], client: context.clientAddress) {
        case .allowed(let organization):
            var context = context
            context.organization = organization
            return try await next(request, context)
        case .denied:
            // The login only: never the password, the header or its base64.
            let login = Authenticator.presentedLogin(request.headers[.authorization]).map(LogText.escaped) ?? "-"
            context.logger.notice(
                "authentication failed",
                metadata: ["login": "\(login)", "client": "\(context.clientAddress)", "route": "\(context.endpointPath ?? "-")"])
            var response = HTTPAnswer.error(.unauthorized, "Missing or wrong credentials: send Authorization: Basic base64(login:password).")
            response.headers[.wwwAuthenticate] = "Basic realm=\"caller-lookup\", charset=\"UTF-8\""
            return response
        case .unavailable:
            var response = HTTPAnswer.error(
                .serviceUnavailable, "These credentials cannot be verified now: the contacts API is unreachable. Try again later.")
            response.headers[.retryAfter] = "5"
            return response
        case .throttled(let login, let retryAfter):
            // Debug only: a flood of refused guesses must not flood the log (the failures that led
            // to the refusal were logged).
            context.logger.debug(
                "login throttled",
                metadata: ["login": "\(LogText.escaped(login))", "client": "\(context.clientAddress)", "route": "\(context.endpointPath ?? "-")"])
            return HTTPAnswer.throttled(login: login, retryAfter: retryAfter)
        }
    }
}

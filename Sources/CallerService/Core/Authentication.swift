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

/// Lets a request in only with valid credentials — a user's HTTP Basic login, or an access token as
/// `Authorization: Bearer` or `?token=` — and records its organization and scope in the context;
/// answers 401 with `WWW-Authenticate` otherwise. The route's scope is checked where the route is
/// registered (`addAPIRoutes`).
struct Authentication: RouterMiddleware {
    typealias Context = CallerRequestContext
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let authorization = Self.authorization(request, context: context)
        switch await authenticator.authenticate(authorization: authorization, client: context.clientAddress) {
        case .allowed(let organization, let scope, let holder):
            var context = context
            context.organization = organization
            context.scope = scope
            context.holder = holder
            return try await next(request, context)
        case .denied:
            // The login only: never the password, a token, the header or its base64.
            let login = Authenticator.presentedLogin(authorization).map(LogText.escaped) ?? "-"
            context.logger.notice(
                "authentication failed",
                metadata: ["login": "\(login)", "client": "\(context.clientAddress)", "route": "\(context.endpointPath ?? "-")"])
            return Self.unauthorized(token: Authenticator.bearer(authorization) != nil)
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

    /// The request's `Authorization` value; a `?token=` stands for `Bearer` when the header is
    /// absent (a PBX that cannot send headers). A `?token=` given twice lets nothing in.
    static func authorization(_ request: Request, context: Context) -> String? {
        if let header = request.headers[.authorization] { return header }
        let tokens = context.queryParameters.getAll("token")
        guard tokens.count == 1, let token = tokens.first else { return nil }
        // Hummingbird has percent-decoded the value.
        return "Bearer " + String(token)
    }

    static func unauthorized(token: Bool) -> Response {
        if token {
            var response = HTTPAnswer.error(.unauthorized, "This access token is wrong or revoked.")
            response.headers[.wwwAuthenticate] = "Bearer realm=\"caller-lookup\", error=\"invalid_token\""
            return response
        }
        var response = HTTPAnswer.error(
            .unauthorized,
            "Missing or wrong credentials: send Authorization: Basic base64(login:password), or an access token as Authorization: Bearer TOKEN or ?token=TOKEN.")
        response.headers[.wwwAuthenticate] = "Basic realm=\"caller-lookup\", charset=\"UTF-8\""
        return response
    }
}

extension APIRoutes.Route {
    /// The handler behind the route's scope check: 403, with a message that names what the caller
    /// has (a user's role, a token's scope) and what the route needs, for credentials that may not
    /// do this.
    func checkingScope(_ handler: @escaping Handler) -> Handler {
        let needed = scope
        return { request, context in
            guard let scope = context.scope, scope >= needed else {
                let route = "\(request.method) \(LogText.escaped(request.uri.path))"
                if case .user(let login, _) = context.holder {
                    let role = UserRole.allCases.first { $0.scope == context.scope }?.rawValue ?? "none"
                    let roles = UserRole.allCases.filter { $0.scope >= needed }.map { "'\($0)'" }.joined(separator: " or ")
                    return HTTPAnswer.error(
                        .forbidden, "Your role is '\(role)' ('\(LogText.escaped(login))'); \(route) needs the role \(roles). Ask an admin of your organization.")
                }
                return HTTPAnswer.error(
                    .forbidden,
                    "This access token's scope is '\(context.scope?.rawValue ?? "none")'; \(route) needs a '\(needed)' token or a user's login.")
            }
            return try await handler(request, context)
        }
    }
}

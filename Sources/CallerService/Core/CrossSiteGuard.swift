import Foundation
import Logging
import HTTPTypes
import Hummingbird

/// No state change from another site: a browser that holds credentials for this host — an admin
/// session cookie, or HTTP Basic credentials an agent typed for the popup — sends them with a form
/// or a script of any other site, so a `POST`, `PUT`, `PATCH` or `DELETE` that a browser marks as
/// coming from elsewhere (`Sec-Fetch-Site: cross-site` or `same-site`, or an `Origin` that is not
/// this service's) is refused with 403 before anything else looks at it.
///
/// A request with `Authorization: Bearer` passes: a browser never adds a bearer token by itself, so
/// it comes from a program that holds the token (a PBX, a CRM's server). Requests without `Origin`
/// and `Sec-Fetch-Site` (curl, PBXs, servers) pass: only browsers send them, and browsers always
/// send `Origin` with a cross-site `POST`.
///
/// This service's origins: the request's own `Host`, and `http.publicurl` when it is set (behind a
/// TLS proxy that rewrites the host).
struct CrossSiteGuard: RouterMiddleware {
    typealias Context = CallerRequestContext
    /// The authority (`host[:port]`) of `http.publicurl`, lowercased.
    let publicAuthority: String?

    init(publicURL: String?) {
        publicAuthority = publicURL.flatMap(Self.authority)
    }

    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch request.method {
        case .get, .head, .options: return try await next(request, context)
        default: break
        }
        if let refusal = refusal(request) {
            context.logger.notice(
                "cross-site request refused",
                metadata: ["client": "\(context.clientAddress)", "method": "\(request.method)", "path": "\(LogText.escaped(request.uri.path))"])
            return HTTPAnswer.error(.forbidden, refusal)
        }
        return try await next(request, context)
    }

    /// Why the request is refused, or `nil` when it may go on.
    func refusal(_ request: Request) -> String? {
        if Authenticator.bearer(request.headers[.authorization]) != nil { return nil }
        let site = request.headers[Self.secFetchSite]?.lowercased()
        if site == "cross-site" || site == "same-site" {
            return "Refused: the browser says this request comes from another site (Sec-Fetch-Site: \(site ?? "")). "
                + "Change data through this service's own pages, or from a program with Authorization: Bearer TOKEN."
        }
        guard let origin = request.headers[.origin] else { return nil }
        let presented = Self.authority(origin)
        if let presented, presented == request.head.authority?.lowercased() || presented == publicAuthority { return nil }
        return "Refused: this request comes from another site (Origin: \(PhoneSystemText.render(String(origin.prefix(100)), maxLength: 100))). "
            + "Change data through this service's own pages, or from a program with Authorization: Bearer TOKEN."
    }

    /// `host[:port]` of `scheme://host[:port][/…]`, lowercased; `nil` for anything else (`null`).
    static func authority(_ url: String) -> String? {
        guard let separator = url.range(of: "://") else { return nil }
        let rest = url[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return authority.isEmpty ? nil : authority.lowercased()
    }
}

/// With `http.forwardedfor` (a TLS proxy in front, the service on loopback behind it): the client's
/// address is the last one of the proxy's `X-Forwarded-For`, so the login throttle and the logs
/// see each client, not the proxy. Off by default: a client could name any address itself.
struct ForwardedClient: RouterMiddleware {
    typealias Context = CallerRequestContext
    static let header = HTTPField.Name("X-Forwarded-For")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let forwarded = request.headers[Self.header],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty, last.count <= 64,
            last.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" })
        else { return try await next(request, context) }
        var context = context
        context.clientAddress = last
        return try await next(request, context)
    }
}

import Logging
import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import LookupIndex
import NIOCore
import PhoneNumbers
import StoreContract

/// Signing in and out of the admin pages.
extension AdminHandlers {
    @Sendable func loginForm(_ request: Request, context: CallerRequestContext) async throws -> Response {
        if await sessions.session(request) != nil { return AdminPage.redirect("/admin/contacts") }
        return renderLogin(request, error: nil, status: .ok)
    }

    fileprivate func renderLogin(_ request: Request, error: String?, status: HTTPResponse.Status, retryAfter: Int? = nil) -> Response {
        let page = AdminPage(request)
        let token = AdminSessions.randomToken()
        var body = "<section><h1>caller-lookup</h1>"
        if let error { body += "<p class=\"error\" id=\"login-error\">\(AdminPage.escape(error))</p>" }
        body += """
            <form method="post" action="/admin/login">\(AdminPage.csrfField(token))\
            <label for="login">\(page.t("Login", "Přihlašovací jméno"))</label><input id="login" name="login" autocomplete="username" required>\
            <label for="password">\(page.t("Password", "Heslo"))</label><input id="password" name="password" type="password" autocomplete="current-password" required>\
            <button type="submit" id="sign-in">\(page.t("Sign in", "Přihlásit"))</button></form></section>
            """
        var response = AdminPage.response(
            status, page.document(title: page.t("Sign in", "Přihlášení"), session: nil, csrf: "", body: body),
            cookies: [sessions.setLoginCookie(token, request: request)], language: page.language)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    /// Checks the login and password as HTTP Basic does (the same hashes, the same throttle) and
    /// starts a session.
    @Sendable func login(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let page = AdminPage(request)
        let fields = FormBody.parse(Array(buffer: try await request.body.collect(upTo: 64 * 1024)))
        guard let token = fields["csrf"], let cookie = AdminSessions.cookie(AdminSessions.loginCookie, in: request), !token.isEmpty,
            Crypto.constantTimeEqual(Array(token.utf8), Array(cookie.utf8))
        else {
            return renderLogin(request, error: page.t("The sign-in form expired; please sign in again.", "Přihlašovací formulář vypršel; přihlaste se prosím znovu."), status: .forbidden)
        }
        let login = fields["login"] ?? "", password = fields["password"] ?? ""
        let authorization = Credentials.basic(login: login, password: password).authorization
        switch await state.authenticator.authenticate(authorization: authorization, client: context.clientAddress) {
        case .allowed:
            guard let account = try await state.store.user(login: login) else { fallthrough }
            let cookie = try await sessions.cookieValue(for: account)
            context.logger.info("admin sign-in", metadata: ["login": "\(LogText.escaped(login))", "client": "\(context.clientAddress)"])
            return AdminPage.redirect("/admin/contacts", cookies: [sessions.setCookie(cookie, request: request)])
        case .denied:
            return renderLogin(request, error: page.t("Wrong login or password.", "Nesprávné jméno nebo heslo."), status: .unauthorized)
        case .throttled(_, let retryAfter):
            return renderLogin(
                request, error: page.t("Too many failed sign-ins. Try again in \(retryAfter) s.", "Příliš mnoho neúspěšných pokusů. Zkuste to znovu za \(retryAfter) s."),
                status: .tooManyRequests, retryAfter: retryAfter)
        case .unavailable:
            return renderLogin(request, error: page.t("The contact store is unavailable just now; try again in a few seconds.", "Úložiště kontaktů je teď nedostupné; zkuste to za pár sekund."), status: .serviceUnavailable)
        }
    }

    /// Ends every session of the user (this browser's and any other) and clears the cookie.
    @Sendable func logout(_ visit: Visit) async throws -> Response {
        try await state.store.endSessions(login: visit.session.account.login, organizationID: visit.organization.id)
        return AdminPage.redirect("/admin/login", cookies: [sessions.setCookie(nil, request: visit.request)])
    }
}

import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import LookupIndex
import NIOCore
import PhoneNumbers
import StoreContract

/// The organization's admin pages under `/admin/`, for the office staff who keep its
/// contacts: sign-in, contacts (search, view, edit, delete), the CSV upload with its report and
/// dry run, labels, access tokens and users. Every page needs a session and the role it names
/// (`reader` ⊂ `editor` ⊂ `admin`, as on the API); every form that changes something needs the
/// session's CSRF token.
struct AdminHandlers: Sendable {
    let state: ServiceState
    var sessions: AdminSessions { AdminSessions(state: state) }
    static let pageSize = 50

    func register(on router: Router<CallerRequestContext>) {
        router.get("/admin") { _, _ in AdminPage.redirect("/admin/contacts") }
        router.get("/admin/login", use: loginForm)
        router.post("/admin/login", use: login)
        router.post("/admin/logout", use: page(.reader, logout))
        router.get("/admin/contacts", use: page(.reader, contacts))
        router.get("/admin/contacts/new", use: page(.editor, newContact))
        router.post("/admin/contacts", use: page(.editor, createContact))
        router.get("/admin/contacts/{id}", use: page(.reader, contact))
        router.get("/admin/contacts/{id}/edit", use: page(.editor, editContact))
        router.post("/admin/contacts/{id}", use: page(.editor, saveContact))
        router.post("/admin/contacts/{id}/delete", use: page(.editor, deleteContact))
        router.get("/admin/upload", use: page(.admin, uploadForm))
        router.post("/admin/upload", use: page(.admin, upload, form: false))
        router.get("/admin/labels", use: page(.admin, labels))
        router.post("/admin/labels", use: page(.admin, saveLabels))
        router.get("/admin/tokens", use: page(.admin, tokens))
        router.post("/admin/tokens", use: page(.admin, createToken))
        router.post("/admin/tokens/{id}/revoke", use: page(.admin, revokeToken))
        router.post("/admin/popup-link/rotate", use: page(.admin, rotatePopupLink))
        router.get("/admin/sync", use: page(.admin, syncSources))
        router.post("/admin/sync/{id}/run", use: page(.admin, runSyncSource))
        router.get("/admin/users", use: page(.admin, users))
        router.post("/admin/users", use: page(.admin, addUser))
        router.post("/admin/users/{login}/role", use: page(.admin, setRole))
        router.post("/admin/users/{login}/password", use: page(.admin, setPassword))
        router.post("/admin/users/{login}/delete", use: page(.admin, removeUser))
    }

    /// What a page handler gets: the request, its context, the session, its CSRF token, the page
    /// frame and (for a form) the posted fields.
    struct Visit {
        let request: Request
        let context: CallerRequestContext
        let session: AdminSession
        let csrf: String
        let page: AdminPage
        let form: [String: String]
        var organization: Organization { session.organization }

        func render(_ title: String, _ body: String, status: HTTPResponse.Status = .ok) -> Response {
            AdminPage.response(status, page.document(title: title, session: session, csrf: csrf, body: body), language: page.language)
        }

        func t(_ english: String, _ czech: String) -> String { page.t(english, czech) }
    }

    typealias PageHandler = @Sendable (Visit) async throws -> Response

    /// `handler` behind the session (else to the sign-in page), the role (else 403) and, for a
    /// POST, the CSRF token (else 403). `form: false` leaves the body to the handler (the upload's
    /// multipart form carries its own `csrf` field).
    func page(_ role: UserRole, _ handler: @escaping PageHandler, form: Bool = true) -> @Sendable (Request, CallerRequestContext) async throws -> Response {
        let sessions = self.sessions
        return { request, context in
            let page = AdminPage(request)
            guard let (session, refresh) = await sessions.session(request) else {
                return AdminPage.redirect("/admin/login", cookies: [sessions.setCookie(nil, request: request)])
            }
            let csrf = await sessions.csrf(session)
            guard session.role >= role else {
                let body = "<section><h1>\(page.t("Not allowed", "Nepovoleno"))</h1><p class=\"error\">"
                    + AdminPage.escape(page.t(
                        "Your role is \(session.role); this page needs \(role).", "Vaše role je \(session.role); tato stránka vyžaduje \(role)."))
                    + "</p></section>"
                return AdminPage.response(.forbidden, page.document(title: "403", session: session, csrf: csrf, body: body), language: page.language)
            }
            var fields: [String: String] = [:]
            if request.method == .post, form {
                let body = try await request.body.collect(upTo: 1 << 20)
                fields = FormBody.parse(Array(buffer: body))
                guard await sessions.checkCSRF(fields["csrf"], session) else { return Self.csrfRefused(page, session: session, csrf: csrf) }
            }
            var response = try await handler(Visit(request: request, context: context, session: session, csrf: csrf, page: page, form: fields))
            if let refresh { response.headers.append(HTTPField(name: .setCookie, value: sessions.setCookie(refresh, request: request))) }
            return response
        }
    }

    static func csrfRefused(_ page: AdminPage, session: AdminSession?, csrf: String) -> Response {
        let body = "<section><h1>\(page.t("The form expired", "Formulář vypršel"))</h1><p class=\"error\">"
            + page.t("The form was not sent from this session's page (its security token is missing or wrong); nothing was changed. Open the page again and repeat.",
                     "Formulář nebyl odeslán ze stránky této relace (chybí nebo nesedí jeho bezpečnostní token); nic se nezměnilo. Otevřete stránku znovu a akci zopakujte.")
            + "</p></section>"
        return AdminPage.response(.forbidden, page.document(title: "403", session: session, csrf: csrf, body: body), language: page.language)
    }
}

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

    // MARK: Sign-in

    @Sendable func loginForm(_ request: Request, context: CallerRequestContext) async throws -> Response {
        if await sessions.session(request) != nil { return AdminPage.redirect("/admin/contacts") }
        return renderLogin(request, error: nil, status: .ok)
    }

    private func renderLogin(_ request: Request, error: String?, status: HTTPResponse.Status, retryAfter: Int? = nil) -> Response {
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

    // MARK: Contacts

    /// The list: `?q=` searches by any number form (the lookup's normalization, from this node's
    /// index), else by name, organization, email or externalId (the store); paged by `?after=`.
    @Sendable func contacts(_ visit: Visit) async throws -> Response {
        let query = visit.request.uri.queryParameters
        let text = query["q"].map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        let after = query["after"].flatMap { Int64(String($0)) } ?? 0
        var found: [StoredContact]
        var byNumber = false
        if Self.looksLikeNumber(text) {
            let entry = try state.indexes.entry(for: visit.organization)
            let result = entry.lookup.lookUp(text, in: entry.index.snapshot)
            found = result.snapshot.refs(result.matches).map { result.snapshot.storedContact($0) }
            byNumber = true
        } else if text.isEmpty {
            found = try await state.store.contactsPage(organizationID: visit.organization.id, afterID: after, limit: Self.pageSize + 1)
        } else {
            found = try await state.store.searchContacts(organizationID: visit.organization.id, text: text, afterID: after, limit: Self.pageSize + 1)
        }
        let more = !byNumber && found.count > Self.pageSize
        if more { found.removeLast() }
        let t = visit.t
        var body = """
            <section><h1>\(t("Contacts", "Kontakty"))</h1><form method="get" action="/admin/contacts">\
            <label for="q">\(t("Search by name, organization, email or any form of a number", "Hledat podle jména, organizace, e-mailu nebo čísla v libovolném tvaru"))</label>\
            <input id="q" name="q" value="\(AdminPage.escape(text))" type="search"> <button type="submit" id="search">\(t("Search", "Hledat"))</button>
            """
        if visit.session.role >= .editor { body += " <a class=\"button secondary\" href=\"/admin/contacts/new\">\(t("New contact", "Nový kontakt"))</a>" }
        body += "</form></section>\n<section>"
        if found.isEmpty {
            body += "<p id=\"no-contacts\">\(t("No contacts found.", "Žádné kontakty nenalezeny."))</p>"
        } else {
            body += "<table id=\"contacts\"><tr><th>\(t("Name", "Jméno"))</th><th>\(t("Organization", "Organizace"))</th><th>\(t("Phone", "Telefon"))</th><th>E-mail</th></tr>\n"
            for stored in found {
                let contact = stored.contact
                body += "<tr><td><a href=\"/admin/contacts/\(stored.id)\">\(AdminPage.escape(contact.displayName))</a></td>"
                body += "<td>\(AdminPage.escape(contact[.organization]))</td><td>\(AdminPage.escape([contact[.phone1], contact[.phone2]].filter { !$0.isEmpty }.joined(separator: ", ")))</td>"
                body += "<td>\(AdminPage.escape(contact[.email]))</td></tr>\n"
            }
            body += "</table>"
        }
        if more, let last = found.last {
            var next = "/admin/contacts?after=\(last.id)"
            if !text.isEmpty { next += "&q=" + PercentEncoding.encoded(text) }
            body += "<p><a class=\"button secondary\" id=\"next-page\" href=\"\(AdminPage.escape(next))\">\(t("Next page", "Další strana"))</a></p>"
        }
        return visit.render(t("Contacts", "Kontakty"), body + "</section>\n")
    }

    /// A search for a number: digits (at least three) and the separators numbers are written with.
    static func looksLikeNumber(_ text: String) -> Bool {
        let digits = text.unicodeScalars.filter { CharacterSet.decimalDigits.contains($0) }.count
        return digits >= 3 && text.unicodeScalars.allSatisfy { CharacterSet.decimalDigits.contains($0) || " +-()./".unicodeScalars.contains($0) }
    }

    private func stored(_ visit: Visit) async throws -> StoredContact? {
        guard let id = visit.context.parameters.get("id", as: Int64.self) else { return nil }
        return try await state.store.contact(id: id, organizationID: visit.organization.id)
    }

    private func notFound(_ visit: Visit) -> Response {
        visit.render("404", "<section><p class=\"error\">\(visit.t("No such contact.", "Takový kontakt neexistuje."))</p></section>", status: .notFound)
    }

    /// One contact: every field under the organization's labels, its links, and its popup view.
    @Sendable func contact(_ visit: Visit) async throws -> Response {
        guard let stored = try await stored(visit) else { return notFound(visit) }
        let contact = stored.contact, t = visit.t, labels = visit.organization.labels
        var body = "<section><h1 id=\"contact-name\">\(PopupPage.linked(contact.displayName, contact[.nameUri]))</h1><table id=\"contact\">\n"
        for field in ContactField.allCases where !contact[field].isEmpty {
            let value = contact[field]
            let shown = field.rawValue.hasSuffix("Uri") ? PopupPage.linked(value, value)
                : field == .email ? "<a href=\"mailto:\(AdminPage.escape(PopupPage.mailto(value)))\">\(AdminPage.escape(value))</a>"
                : PopupPage.linked(value, field.linkField.map { contact[$0] } ?? "")
            body += "<tr><th>\(AdminPage.escape(visit.page.fieldName(field, labels: labels)))</th><td data-field=\"\(field.rawValue)\">\(shown)</td></tr>\n"
        }
        body += "</table><p class=\"muted\">id \(stored.id) · \(t("version", "verze")) \(stored.version)</p>"
        let number = contact.phone1.e164
        var popup = "/popup?number=" + PercentEncoding.encoded(number)
        if let token = try? await state.store.popupToken(organizationID: visit.organization.id) { popup += "&token=" + token }
        body += "<a class=\"button secondary\" id=\"popup-view\" href=\"\(AdminPage.escape(popup))\" target=\"_blank\" rel=\"noopener\">\(t("Popup view", "Zobrazení při hovoru"))</a>"
        if visit.session.role >= .editor {
            body += "<a class=\"button\" id=\"edit\" href=\"/admin/contacts/\(stored.id)/edit\">\(t("Edit", "Upravit"))</a>"
            body += "<form class=\"inline\" method=\"post\" action=\"/admin/contacts/\(stored.id)/delete\">\(AdminPage.csrfField(visit.csrf))"
            body += "<button class=\"danger\" id=\"delete\" type=\"submit\">\(t("Delete", "Smazat"))</button></form>"
        }
        return visit.render(contact.displayName, body + "</section>\n")
    }

    @Sendable func newContact(_ visit: Visit) async throws -> Response {
        visit.render(visit.t("New contact", "Nový kontakt"), contactForm(visit, action: "/admin/contacts", values: [:], violations: []))
    }

    @Sendable func editContact(_ visit: Visit) async throws -> Response {
        guard let stored = try await stored(visit) else { return notFound(visit) }
        let values = Dictionary(uniqueKeysWithValues: ContactField.allCases.map { ($0, stored.contact[$0]) })
        return visit.render(stored.contact.displayName, contactForm(visit, action: "/admin/contacts/\(stored.id)", values: values, violations: []))
    }

    /// Every field of the record, the `…Uri` ones too (so an edit keeps them), each with the
    /// record rules' messages beside it.
    private func contactForm(_ visit: Visit, action: String, values: [ContactField: String], violations: [(field: ContactField?, message: String)]) -> String {
        let labels = visit.organization.labels
        var html = "<section><h1>\(AdminPage.escape(values.isEmpty ? visit.t("New contact", "Nový kontakt") : visit.t("Edit contact", "Upravit kontakt")))</h1>"
        let general = violations.filter { $0.field == nil }
        if !general.isEmpty { html += "<p class=\"error\" id=\"form-error\">\(AdminPage.escape(general.map(\.message).joined(separator: " ")))</p>" }
        html += "<form method=\"post\" action=\"\(AdminPage.escape(action))\">\(AdminPage.csrfField(visit.csrf))\n"
        for field in ContactField.allCases {
            html += "<label for=\"\(field.rawValue)\">\(AdminPage.escape(visit.page.fieldName(field, labels: labels)))"
            if labels[field] != nil { html += " <span class=\"muted\">(\(field.rawValue))</span>" }
            html += "</label><input id=\"\(field.rawValue)\" name=\"\(field.rawValue)\" value=\"\(AdminPage.escape(values[field] ?? ""))\">\n"
            for violation in violations where violation.field == field {
                html += "<p class=\"field-error\" data-field=\"\(field.rawValue)\">\(AdminPage.escape(violation.message))</p>\n"
            }
        }
        return html + "<button type=\"submit\" id=\"save\">\(visit.t("Save", "Uložit"))</button></form></section>\n"
    }

    /// Every field of the posted contact form, as sent (a missing one empty).
    private static func postedValues(_ visit: Visit) -> [ContactField: String] {
        Dictionary(uniqueKeysWithValues: ContactField.allCases.map { ($0, visit.form[$0.rawValue] ?? "") })
    }

    /// The posted values checked by the record rules: the contact, or every rule they break.
    private func postedContact(_ visit: Visit) -> Result<Contact, ContactRuleViolations> {
        Contact.validate(Self.postedValues(visit), validator: state.validator)
    }

    /// The posted form again, with the messages beside its fields.
    private func formAgain(_ visit: Visit, action: String, violations: [(field: ContactField?, message: String)]) -> Response {
        let values = Self.postedValues(visit)
        return visit.render(visit.t("Check the contact", "Zkontrolujte kontakt"), contactForm(visit, action: action, values: values, violations: violations),
                            status: .unprocessableContent)
    }

    @Sendable func createContact(_ visit: Visit) async throws -> Response {
        switch postedContact(visit) {
        case .failure(let violations):
            return formAgain(visit, action: "/admin/contacts", violations: violations.violations.map { ($0.field, $0.message) })
        case .success(let contact):
            do {
                let stored = try await state.store.create(contact, organizationID: visit.organization.id)
                await state.indexes.awaitVersion(stored.version, of: visit.organization.id)
                return AdminPage.redirect("/admin/contacts/\(stored.id)")
            } catch let error as ContactStoreError where error.code == .duplicateExternalId {
                return formAgain(visit, action: "/admin/contacts", violations: [(.externalId, error.message)])
            }
        }
    }

    @Sendable func saveContact(_ visit: Visit) async throws -> Response {
        guard let id = visit.context.parameters.get("id", as: Int64.self) else { return notFound(visit) }
        let action = "/admin/contacts/\(id)"
        switch postedContact(visit) {
        case .failure(let violations):
            return formAgain(visit, action: action, violations: violations.violations.map { ($0.field, $0.message) })
        case .success(let contact):
            do {
                let stored = try await state.store.replace(id: id, with: contact, organizationID: visit.organization.id)
                await state.indexes.awaitVersion(stored.version, of: visit.organization.id)
                return AdminPage.redirect("/admin/contacts/\(id)")
            } catch let error as ContactStoreError where error.code == .duplicateExternalId {
                return formAgain(visit, action: action, violations: [(.externalId, error.message)])
            } catch let error as ContactStoreError where error.code == .notFound {
                return notFound(visit)
            }
        }
    }

    @Sendable func deleteContact(_ visit: Visit) async throws -> Response {
        guard let id = visit.context.parameters.get("id", as: Int64.self) else { return notFound(visit) }
        do {
            let version = try await state.store.delete(id: id, organizationID: visit.organization.id)
            await state.indexes.awaitVersion(version, of: visit.organization.id)
        } catch let error as ContactStoreError where error.code == .notFound {
            return notFound(visit)
        }
        return AdminPage.redirect("/admin/contacts")
    }

    // MARK: Upload

    @Sendable func uploadForm(_ visit: Visit) async throws -> Response {
        visit.render(visit.t("Upload contacts", "Nahrát kontakty"), uploadFormHTML(visit))
    }

    private func uploadFormHTML(_ visit: Visit) -> String {
        let t = visit.t, limit = state.configuration.uploadLimit
        return """
            <section><h1>\(t("Upload contacts (CSV)", "Nahrát kontakty (CSV)"))</h1>\
            <p>\(t("The file replaces all of the organization's contacts. Columns separated by ';', the first line names them. At most \(limit >> 20) MB.", "Soubor nahradí všechny kontakty organizace. Sloupce oddělené středníkem, první řádek je pojmenuje. Nejvýše \(limit >> 20) MB."))</p>\
            <form id="upload" method="post" action="/admin/upload" enctype="multipart/form-data" data-limit="\(limit)" \
            data-toolarge="\(AdminPage.escape(t("The file is larger than \(limit >> 20) MB; split it or remove unused columns.", "Soubor je větší než \(limit >> 20) MB; rozdělte ho nebo odstraňte nepoužité sloupce.")))" \
            data-failed="\(AdminPage.escape(t("The upload failed; check the connection and try again.", "Nahrání selhalo; zkontrolujte připojení a zkuste to znovu.")))">\
            \(AdminPage.csrfField(visit.csrf))<div class="drop"><label for="file">\(t("Choose or drop a CSV file", "Vyberte nebo přetáhněte soubor CSV"))</label>\
            <input id="file" name="file" type="file" accept=".csv,text/csv" required></div>\
            <progress id="upload-progress" max="1" value="0" hidden></progress><p id="upload-message" class="error"></p>\
            <button type="submit" id="upload-button">\(t("Upload and replace", "Nahrát a nahradit"))</button>\
            <button type="submit" class="secondary" id="dry-run" name="dryRun" value="true">\(t("Dry run (check only)", "Zkušební běh (jen kontrola)"))</button>\
            </form></section>

            """
    }

    /// The upload form's post: the file (and `dryRun`) from the multipart body, checked against
    /// the session's CSRF token, imported as the API imports, and the report as a page.
    @Sendable func upload(_ visit: Visit) async throws -> Response {
        let upload = Upload(state: state, logger: visit.context.logger)
        let file: [UInt8], fields: [String: String]
        switch await upload.form(of: visit.request, fields: ["csrf", "dryRun"]) {
        case .failure(let refusal):
            return uploadRefused(visit, refusal)
        case .success(let form):
            (file, fields) = form
        }
        guard await sessions.checkCSRF(fields["csrf"], visit.session) else {
            return Self.csrfRefused(visit.page, session: visit.session, csrf: visit.csrf)
        }
        let dryRun = fields["dryRun"] == "true"
        switch await upload.run(file, organization: visit.organization, dryRun: dryRun) {
        case .imported(let report): return visit.render(visit.t("Upload report", "Výsledek nahrání"), reportHTML(visit, report))
        case .refused(let refusal): return uploadRefused(visit, refusal)
        }
    }

    private func uploadRefused(_ visit: Visit, _ refusal: Upload.Refusal) -> Response {
        let t = visit.t
        var html = "<section><h1>\(t("The file was rejected", "Soubor byl odmítnut"))</h1><p class=\"error\" id=\"upload-error\">\(AdminPage.escape(refusal.rejection.message))</p>"
        html += rejectedTable(visit, refusal.rejection.rejected) + "<p class=\"ok\">\(t("Nothing was changed.", "Nic se nezměnilo."))</p></section>\n"
        var response = visit.render(t("The file was rejected", "Soubor byl odmítnut"), html + uploadFormHTML(visit), status: refusal.status)
        if let retryAfter = refusal.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    private func reportHTML(_ visit: Visit, _ report: ImportReport) -> String {
        let t = visit.t
        var html = "<section><h1 id=\"report-title\">\(report.dryRun ? t("Dry run: nothing was changed", "Zkušební běh: nic se nezměnilo") : t("Contacts uploaded", "Kontakty nahrány"))</h1><div class=\"counts\" id=\"counts\">"
        let counts: [(String, String, Int)] = [
            ("imported", t("imported", "importováno"), report.imported), ("rejected", t("rejected", "odmítnuto"), report.rejected.count),
            ("created", t("created", "vytvořeno"), report.created), ("updated", t("updated", "změněno"), report.updated),
            ("deleted", t("deleted", "smazáno"), report.deleted), ("unchanged", t("unchanged", "beze změny"), report.unchanged),
        ]
        for (key, label, value) in counts { html += "<div data-count=\"\(key)\"><b>\(value)</b>\(label)</div>" }
        html += "</div>"
        if report.dryRun { html += "<p class=\"ok\">\(t("This was a dry run: the counts say what the upload would do.", "Šlo o zkušební běh: čísla říkají, co by nahrání udělalo."))</p>" }
        return html + rejectedTable(visit, report.rejected) + "</section>\n" + uploadFormHTML(visit)
    }

    /// The rejected rows (line, column, value, message) and a link that downloads them as CSV.
    private func rejectedTable(_ visit: Visit, _ rejected: RejectedRowList) -> String {
        guard !rejected.listed.isEmpty else { return "" }
        let t = visit.t
        var html = "<h2>\(t("Rejected rows", "Odmítnuté řádky"))</h2><table id=\"rejected\"><tr><th>\(t("Line", "Řádek"))</th><th>\(t("Column", "Sloupec"))</th><th>\(t("Value", "Hodnota"))</th><th>\(t("Problem", "Problém"))</th></tr>\n"
        var csv = "line;column;value;message\r\n"
        // Opened in a spreadsheet: a value such as `=HYPERLINK(…)` must stay text.
        func cell(_ text: String) -> String { CSVCell.quoted(text, neutralizingFormulas: true) }
        for row in rejected.listed {
            for violation in row.violations {
                let column = violation.field?.rawValue ?? ""
                html += "<tr><td>\(row.line)</td><td>\(AdminPage.escape(column))</td><td>\(AdminPage.escape(String(violation.value.prefix(100))))</td><td>\(AdminPage.escape(violation.message))</td></tr>\n"
                csv += "\(row.line);\(cell(column));\(cell(violation.value));\(cell(violation.message))\r\n"
            }
        }
        html += "</table>"
        if rejected.count > rejected.listed.count {
            html += "<p class=\"muted\">\(t("\(rejected.count - rejected.listed.count) more rejected rows are not listed.", "Dalších \(rejected.count - rejected.listed.count) odmítnutých řádků není vypsáno."))</p>"
        }
        let href = "data:text/csv;charset=utf-8," + PercentEncoding.encoded(csv)
        return html + "<a class=\"button secondary\" id=\"download-errors\" download=\"rejected-rows.csv\" href=\"\(AdminPage.escape(href))\">\(t("Download as CSV", "Stáhnout jako CSV"))</a>"
    }

    // MARK: Labels

    @Sendable func labels(_ visit: Visit) async throws -> Response {
        visit.render(visit.t("Labels", "Popisky"), labelsHTML(visit, organization: visit.organization, error: nil, saved: false))
    }

    private func labelsHTML(_ visit: Visit, organization: Organization, error: String?, saved: Bool) -> String {
        var html = "<section><h1>\(visit.t("Field labels", "Popisky polí"))</h1><p>\(visit.t("Names for the fields the popup and the answers show; empty: the default.", "Názvy polí, které ukazuje okno hovoru a odpovědi; prázdné: výchozí."))</p>"
        if let error { html += "<p class=\"error\">\(AdminPage.escape(error))</p>" }
        if saved { html += "<p class=\"ok\" id=\"saved\">\(visit.t("Saved.", "Uloženo."))</p>" }
        html += "<form method=\"post\" action=\"/admin/labels\">\(AdminPage.csrfField(visit.csrf))"
        for field in ContactField.allCases where !field.rawValue.hasSuffix("Uri") {
            html += "<label for=\"\(field.rawValue)\">\(field.rawValue)</label><input id=\"\(field.rawValue)\" name=\"\(field.rawValue)\" maxlength=\"64\" value=\"\(AdminPage.escape(organization.labels[field] ?? ""))\">"
        }
        return html + "<button type=\"submit\" id=\"save-labels\">\(visit.t("Save", "Uložit"))</button></form></section>\n"
    }

    @Sendable func saveLabels(_ visit: Visit) async throws -> Response {
        var changes: [ContactField: String?] = [:]
        for field in ContactField.allCases where !field.rawValue.hasSuffix("Uri") { changes[field] = visit.form[field.rawValue] ?? "" }
        do {
            let organization = try await state.store.setLabels(changes, organizationID: visit.organization.id)
            await state.indexes.awaitVersion(organization.version, of: organization.id)
            state.authenticator.update(organization)
            return visit.render(visit.t("Labels", "Popisky"), labelsHTML(visit, organization: organization, error: nil, saved: true))
        } catch let error as ContactStoreError where error.code == .invalidInput {
            return visit.render(visit.t("Labels", "Popisky"), labelsHTML(visit, organization: visit.organization, error: error.message, saved: false), status: .unprocessableContent)
        }
    }

    // MARK: Tokens

    @Sendable func tokens(_ visit: Visit) async throws -> Response {
        try await tokensPage(visit, created: nil, error: nil)
    }

    private func tokensPage(_ visit: Visit, created: String?, error: String?) async throws -> Response {
        let t = visit.t
        var html = "<section><h1>\(t("Access tokens", "Přístupové tokeny"))</h1>"
        if let created {
            html += "<p class=\"ok\">\(t("The new token — shown only now; put it in the phone system's configuration:", "Nový token — zobrazí se jen teď; vložte ho do konfigurace ústředny:"))</p><p class=\"secret\" id=\"new-token\">\(AdminPage.escape(created))</p>"
        }
        if let error { html += "<p class=\"error\">\(AdminPage.escape(error))</p>" }
        html += "<form method=\"post\" action=\"/admin/tokens\">\(AdminPage.csrfField(visit.csrf))<label for=\"label\">\(t("What it is for", "K čemu slouží"))</label><input id=\"label\" name=\"label\" maxlength=\"100\">"
        html += "<label for=\"scope\">\(t("Scope", "Rozsah"))</label><select id=\"scope\" name=\"scope\">"
        for scope in AccessScope.allCases { html += "<option value=\"\(scope.rawValue)\">\(scope.rawValue)</option>" }
        html += "</select> <button type=\"submit\" id=\"create-token\">\(t("Create token", "Vytvořit token"))</button></form></section><section><table id=\"tokens\">"
        html += "<tr><th>id</th><th>\(t("Scope", "Rozsah"))</th><th>\(t("Label", "Popis"))</th><th>\(t("Starts with", "Začíná"))</th><th>\(t("State", "Stav"))</th><th></th></tr>\n"
        for token in try await state.store.tokens(organizationID: visit.organization.id) {
            html += "<tr><td>\(token.id)</td><td>\(token.scope.rawValue)</td><td>\(AdminPage.escape(token.label))</td><td>\(AdminPage.escape(token.prefix))…</td>"
            if let revoked = token.revoked {
                html += "<td>\(t("revoked", "zrušen")) \(Handlers.isoTime(revoked))</td><td></td></tr>\n"
            } else {
                html += "<td>\(t("active", "platný"))</td><td><form class=\"inline\" method=\"post\" action=\"/admin/tokens/\(token.id)/revoke\">\(AdminPage.csrfField(visit.csrf))<button class=\"danger\" type=\"submit\">\(t("Revoke", "Zrušit"))</button></form></td></tr>\n"
            }
        }
        html += "</table></section>"
        // The standing popup link, for a PBX's softphone URL, and its rotation.
        let token = try await state.store.popupToken(organizationID: visit.organization.id)
        let link = PopupTokenRules.standingPopupLink(token: token, base: Handlers(state: state).baseURL(visit.request))
        html += "<section><h2>\(t("Popup link", "Odkaz na kartu volajícího"))</h2>"
        html += "<p>\(t("Put it in the phone system's softphone URL; it replaces {NUMBER} with the caller's number. Rotating ends this link and every link a lookup handed out.", "Vložte ho do URL softphonů ústředny; {NUMBER} nahradí číslem volajícího. Nový odkaz ukončí tento i všechny odkazy z odpovědí na vyhledání."))</p>"
        html += "<p class=\"secret\" id=\"popup-link\">\(AdminPage.escape(link))</p>"
        html += "<form method=\"post\" action=\"/admin/popup-link/rotate\">\(AdminPage.csrfField(visit.csrf))<button class=\"danger\" type=\"submit\" id=\"rotate-popup-link\">\(t("New link (ends the old ones)", "Nový odkaz (ukončí staré)"))</button></form></section>\n"
        return visit.render(t("Access tokens", "Přístupové tokeny"), html)
    }

    @Sendable func rotatePopupLink(_ visit: Visit) async throws -> Response {
        _ = try await state.store.rotatePopupToken(organizationID: visit.organization.id)
        state.credentialsChanged()
        return AdminPage.redirect("/admin/tokens")
    }

    @Sendable func createToken(_ visit: Visit) async throws -> Response {
        guard let scope = AccessScope(rawValue: visit.form["scope"] ?? "") else {
            return try await tokensPage(visit, created: nil, error: visit.t("Choose the token's scope.", "Zvolte rozsah tokenu."))
        }
        do {
            let (_, secret) = try await state.store.createToken(organizationID: visit.organization.id, scope: scope, label: visit.form["label"] ?? "")
            return try await tokensPage(visit, created: secret, error: nil)
        } catch let error as ContactStoreError where error.code == .invalidInput {
            return try await tokensPage(visit, created: nil, error: error.message)
        }
    }

    @Sendable func revokeToken(_ visit: Visit) async throws -> Response {
        guard let id = visit.context.parameters.get("id", as: Int64.self) else { return AdminPage.redirect("/admin/tokens") }
        _ = try await state.store.revokeToken(id: id, organizationID: visit.organization.id)
        state.credentialsChanged()
        return AdminPage.redirect("/admin/tokens")
    }

    // MARK: Users

    @Sendable func users(_ visit: Visit) async throws -> Response {
        try await usersPage(visit, message: nil, error: nil)
    }

    private func usersPage(_ visit: Visit, message: String?, error: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let t = visit.t
        func roleSelect(_ selected: UserRole, id: String) -> String {
            "<select name=\"role\" id=\"\(AdminPage.escape(id))\">" + UserRole.allCases.map {
                "<option value=\"\($0.rawValue)\"\($0 == selected ? " selected" : "")>\($0.rawValue)</option>"
            }.joined() + "</select>"
        }
        var html = "<section><h1>\(t("Users", "Uživatelé"))</h1><p class=\"muted\">\(t("reader: looks callers up; editor: also edits contacts; admin: also uploads, labels, tokens and users.", "reader: vyhledává volající; editor: navíc upravuje kontakty; admin: navíc nahrává, popisky, tokeny a uživatele."))</p>"
        if let message { html += "<p class=\"ok\" id=\"users-message\">\(AdminPage.escape(message))</p>" }
        if let error { html += "<p class=\"error\" id=\"users-error\">\(AdminPage.escape(error))</p>" }
        html += "<table id=\"users\"><tr><th>\(t("Login", "Jméno"))</th><th>\(t("Role", "Role"))</th><th>\(t("New password", "Nové heslo"))</th><th></th></tr>\n"
        for user in try await state.store.users(organizationID: visit.organization.id) {
            let path = "/admin/users/" + PercentEncoding.encoded(user.login)
            html += "<tr><td>\(AdminPage.escape(user.login))</td>"
            html += "<td><form class=\"inline\" method=\"post\" action=\"\(AdminPage.escape(path))/role\">\(AdminPage.csrfField(visit.csrf))\(roleSelect(user.role, id: "role-" + user.login))<button type=\"submit\">\(t("Change", "Změnit"))</button></form></td>"
            html += "<td><form class=\"inline\" method=\"post\" action=\"\(AdminPage.escape(path))/password\">\(AdminPage.csrfField(visit.csrf))<input type=\"password\" name=\"password\" autocomplete=\"new-password\" required><button type=\"submit\">\(t("Set", "Nastavit"))</button></form></td>"
            html += "<td><form class=\"inline\" method=\"post\" action=\"\(AdminPage.escape(path))/delete\">\(AdminPage.csrfField(visit.csrf))<button class=\"danger\" type=\"submit\">\(t("Remove", "Odebrat"))</button></form></td></tr>\n"
        }
        html += "</table></section><section><h2>\(t("Add a user", "Přidat uživatele"))</h2><form method=\"post\" action=\"/admin/users\">\(AdminPage.csrfField(visit.csrf))"
        html += "<label for=\"new-login\">\(t("Login", "Jméno"))</label><input id=\"new-login\" name=\"login\" required>"
        html += "<label for=\"new-password\">\(t("Password", "Heslo"))</label><input id=\"new-password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required>"
        html += "<label for=\"new-role\">\(t("Role", "Role"))</label>\(roleSelect(.reader, id: "new-role"))<button type=\"submit\" id=\"add-user\">\(t("Add", "Přidat"))</button></form></section>\n"
        return visit.render(t("Users", "Uživatelé"), html, status: status)
    }

    /// Runs a change of users; a refusal (a taken login, the last admin) shows on the page.
    private func changingUsers(_ visit: Visit, done: String, _ change: () async throws -> Void) async throws -> Response {
        do {
            try await change()
            state.credentialsChanged()
            return try await usersPage(visit, message: done, error: nil)
        } catch let error as ContactStoreError where error.code != .database && error.code != .unavailable {
            return try await usersPage(visit, message: nil, error: error.message, status: error.status)
        }
    }

    private func loginParameter(_ visit: Visit) -> String {
        let raw = visit.context.parameters.get("login") ?? ""
        return PercentEncoding.decoded(raw) ?? raw
    }

    @Sendable func addUser(_ visit: Visit) async throws -> Response {
        let login = visit.form["login"] ?? "", role = UserRole(rawValue: visit.form["role"] ?? "") ?? .reader
        return try await changingUsers(visit, done: visit.t("Added \(login).", "Přidán \(login).")) {
            try await state.store.addUser(login: login, password: visit.form["password"] ?? "", role: role, organizationID: visit.organization.id)
        }
    }

    @Sendable func setRole(_ visit: Visit) async throws -> Response {
        let login = loginParameter(visit)
        guard let role = UserRole(rawValue: visit.form["role"] ?? "") else { return try await usersPage(visit, message: nil, error: "reader, editor, admin") }
        return try await changingUsers(visit, done: visit.t("\(login) is \(role) now.", "\(login) má nyní roli \(role).")) {
            _ = try await state.store.updateUser(login: login, organizationID: visit.organization.id, role: role, password: nil)
        }
    }

    @Sendable func setPassword(_ visit: Visit) async throws -> Response {
        let login = loginParameter(visit)
        return try await changingUsers(visit, done: visit.t("New password set for \(login).", "Heslo uživatele \(login) změněno.")) {
            _ = try await state.store.updateUser(login: login, organizationID: visit.organization.id, role: nil, password: visit.form["password"] ?? "")
        }
    }

    @Sendable func removeUser(_ visit: Visit) async throws -> Response {
        let login = loginParameter(visit)
        return try await changingUsers(visit, done: visit.t("Removed \(login).", "Odebrán \(login).")) {
            try await state.store.removeUser(login: login, organizationID: visit.organization.id)
        }
    }
}

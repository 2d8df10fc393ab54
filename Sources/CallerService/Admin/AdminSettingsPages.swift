import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import LookupIndex
import NIOCore
import PhoneNumbers
import StoreContract

/// The organization's settings: labels, access tokens and the popup link, users.
extension AdminHandlers {
    @Sendable func labels(_ visit: Visit) async throws -> Response {
        visit.render(visit.t("Labels", "Popisky"), labelsHTML(visit, organization: visit.organization, error: nil, saved: false))
    }

    fileprivate func labelsHTML(_ visit: Visit, organization: Organization, error: String?, saved: Bool) -> String {
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

    fileprivate func tokensPage(_ visit: Visit, created: String?, error: String?) async throws -> Response {
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

    fileprivate func usersPage(_ visit: Visit, message: String?, error: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
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
            html += "<td><form class=\"inline\" method=\"post\" action=\"\(AdminPage.escape(path))/password\">\(AdminPage.csrfField(visit.csrf))<input type=\"password\" name=\"password\" autocomplete=\"new-password\" minlength=\"\(UserRules.passwordLength)\" required><button type=\"submit\">\(t("Set", "Nastavit"))</button></form></td>"
            html += "<td><form class=\"inline\" method=\"post\" action=\"\(AdminPage.escape(path))/delete\">\(AdminPage.csrfField(visit.csrf))<button class=\"danger\" type=\"submit\">\(t("Remove", "Odebrat"))</button></form></td></tr>\n"
        }
        html += "</table></section><section><h2>\(t("Add a user", "Přidat uživatele"))</h2><form method=\"post\" action=\"/admin/users\">\(AdminPage.csrfField(visit.csrf))"
        html += "<label for=\"new-login\">\(t("Login", "Jméno"))</label><input id=\"new-login\" name=\"login\" required>"
        html += "<label for=\"new-password\">\(t("Password", "Heslo"))</label><input id=\"new-password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"\(UserRules.passwordLength)\" required>"
        html += "<label for=\"new-role\">\(t("Role", "Role"))</label>\(roleSelect(.reader, id: "new-role"))<button type=\"submit\" id=\"add-user\">\(t("Add", "Přidat"))</button></form></section>\n"
        return visit.render(t("Users", "Uživatelé"), html, status: status)
    }

    /// Runs a change of users; a refusal (a taken login, the last admin) shows on the page.
    fileprivate func changingUsers(_ visit: Visit, done: String, _ change: () async throws -> Void) async throws -> Response {
        do {
            try await change()
            state.credentialsChanged()
            return try await usersPage(visit, message: done, error: nil)
        } catch let error as ContactStoreError where error.code != .database && error.code != .unavailable {
            return try await usersPage(visit, message: nil, error: error.message, status: error.status)
        }
    }

    fileprivate func loginParameter(_ visit: Visit) -> String {
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

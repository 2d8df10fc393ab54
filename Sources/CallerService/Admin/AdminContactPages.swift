import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import LookupIndex
import NIOCore
import PhoneNumbers
import StoreContract

/// The contact pages: the list and its search, one contact, the forms that create, edit and delete.
extension AdminHandlers {
    /// The list: `?q=` searches by name, organization, email or externalId (the store), and text
    /// that looks like a number also by any number form (the lookup's normalization, from this
    /// node's index; those come first, on the first page) — so a numeric externalId (`36936`) is
    /// found too; paged by `?after=`.
    @Sendable func contacts(_ visit: Visit) async throws -> Response {
        let query = visit.request.uri.queryParameters
        let text = query["q"].map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        let after = query["after"].flatMap { Int64(String($0)) } ?? 0
        var byNumber: [StoredContact] = []
        if Self.looksLikeNumber(text), after == 0 {
            let entry = try state.indexes.entry(for: visit.organization)
            let result = entry.lookup.lookUp(text, in: entry.index.snapshot)
            byNumber = result.snapshot.refs(result.matches).map { result.snapshot.storedContact($0) }
        }
        var found: [StoredContact]
        if text.isEmpty {
            found = try await state.store.contactsPage(organizationID: visit.organization.id, afterID: after, limit: Self.pageSize + 1)
        } else {
            found = try await state.store.searchContacts(organizationID: visit.organization.id, text: text, afterID: after, limit: Self.pageSize + 1)
        }
        let more = found.count > Self.pageSize
        if more { found.removeLast() }
        let pageEnd = found.last
        let numberIDs = Set(byNumber.map(\.id))
        found = byNumber + found.filter { !numberIDs.contains($0.id) }
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
        if more, let last = pageEnd {
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

    fileprivate func stored(_ visit: Visit) async throws -> StoredContact? {
        guard let id = visit.context.parameters.get("id", as: Int64.self) else { return nil }
        return try await state.store.contact(id: id, organizationID: visit.organization.id)
    }

    fileprivate func notFound(_ visit: Visit) -> Response {
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
    fileprivate func contactForm(_ visit: Visit, action: String, values: [ContactField: String], violations: [(field: ContactField?, message: String)]) -> String {
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
    fileprivate static func postedValues(_ visit: Visit) -> [ContactField: String] {
        Dictionary(uniqueKeysWithValues: ContactField.allCases.map { ($0, visit.form[$0.rawValue] ?? "") })
    }

    /// The posted values checked by the record rules: the contact, or every rule they break.
    fileprivate func postedContact(_ visit: Visit) -> Result<Contact, ContactRuleViolations> {
        Contact.validate(Self.postedValues(visit), validator: state.validator)
    }

    /// The posted form again, with the messages beside its fields.
    fileprivate func formAgain(_ visit: Visit, action: String, violations: [(field: ContactField?, message: String)]) -> Response {
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
}

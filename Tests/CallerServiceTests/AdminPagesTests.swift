import CallerService
import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PhoneNumbers
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

/// The admin pages (issue 19) in-process: sign-in and sessions, roles, CSRF, escaping, the contact
/// editor keeping the `…Uri` columns, the upload page's report and dry run, and `/v3/users`.
@Suite struct AdminPagesTests {
    let fixture: ServiceFixture
    var store: SQLiteStore { fixture.store }
    var ipex: Organization { get throws { try #require(try store.organization(named: "IPEX")) } }

    init() throws {
        fixture = try ServiceFixture()
        let ipex = try #require(try fixture.store.organization(named: "IPEX"))
        try fixture.store.addUser(login: "ctenar", password: "hesloCtenar", role: .reader, organizationID: ipex.id)
        try fixture.store.addUser(login: "editor", password: "hesloEditor", role: .editor, organizationID: ipex.id)
    }

    var app: some ApplicationProtocol { buildApplication(configuration: ServiceConfiguration(), store: store) }

    /// A browser's state: its cookies.
    struct Browser {
        var cookies: [String: String] = [:]

        var header: HTTPFields {
            cookies.isEmpty ? [:] : [.cookie: cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")]
        }

        mutating func keep(_ response: TestResponse) {
            for value in response.headers[values: .setCookie] {
                let pair = value.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard pair.count == 2 else { continue }
                cookies[String(pair[0])] = pair[1].isEmpty ? nil : String(pair[1])
            }
        }

        mutating func get(_ client: some TestClientProtocol, _ uri: String) async throws -> TestResponse {
            let response = try await client.execute(uri: uri, method: .get, headers: header)
            keep(response)
            return response
        }

        mutating func post(_ client: some TestClientProtocol, _ uri: String, _ fields: [(String, String)]) async throws -> TestResponse {
            var headers = header
            headers[.contentType] = "application/x-www-form-urlencoded"
            let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
            let response = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
            keep(response)
            return response
        }

        mutating func upload(_ client: some TestClientProtocol, csv: String, csrf: String, dryRun: Bool) async throws -> TestResponse {
            let boundary = "----caller-lookup-test"
            var body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n\(csrf)\r\n"
            if dryRun { body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"dryRun\"\r\n\r\ntrue\r\n" }
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"kontakty.csv\"\r\nContent-Type: text/csv\r\n\r\n\(csv)\r\n--\(boundary)--\r\n"
            var headers = header
            headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
            return try await client.execute(uri: "/admin/upload", method: .post, headers: headers, body: ByteBuffer(string: body))
        }

        static func encode(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!.replacingOccurrences(of: "%20", with: "+")
        }

        /// Signs in through the form; returns the landing answer.
        mutating func signIn(_ client: some TestClientProtocol, _ login: String, _ password: String) async throws -> TestResponse {
            let form = try await get(client, "/admin/login")
            return try await post(client, "/admin/login", [("csrf", try AdminPagesTests.csrf(form)), ("login", login), ("password", password)])
        }
    }

    static func html(_ response: TestResponse) -> String { String(buffer: response.body) }

    /// The CSRF field's value on a page.
    static func csrf(_ response: TestResponse) throws -> String {
        let html = html(response)
        let marker = "name=\"csrf\" value=\""
        let start = try #require(html.range(of: marker)).upperBound
        return String(html[start...].prefix { $0 != "\"" })
    }

    @Test func signInSessionsAndSignOut() async throws {
        try await app.test(.router) { client in
            var browser = Browser()
            // Without a session: to the sign-in page.
            let away = try await browser.get(client, "/admin/contacts")
            #expect(away.status == .seeOther && away.headers[.location] == "/admin/login")
            let form = try await browser.get(client, "/admin/login")
            #expect(form.status == .ok && Self.html(form).contains("name=\"login\"") && Self.html(form).contains("name=\"password\""))
            #expect(form.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            #expect(form.headers[values: .setCookie].contains { $0.contains("HttpOnly") && $0.contains("SameSite=Strict") })
            // Wrong password: said so, no session.
            let wrong = try await browser.post(client, "/admin/login", [("csrf", try Self.csrf(form)), ("login", "novak"), ("password", "spatne")])
            #expect(wrong.status == .unauthorized && Self.html(wrong).contains("login-error"))
            #expect(browser.cookies[AdminSessionCookie.name] == nil)
            // The sign-in form without its double-submit value is refused even with the right password.
            var stranger = Browser()
            let forged = try await stranger.post(client, "/admin/login", [("csrf", "x"), ("login", "novak"), ("password", "hesloNovak")])
            #expect(forged.status == .forbidden && stranger.cookies[AdminSessionCookie.name] == nil)

            let landed = try await browser.signIn(client, "novak", "hesloNovak")
            #expect(landed.status == .seeOther && landed.headers[.location] == "/admin/contacts")
            let session = try #require(browser.cookies[AdminSessionCookie.name])
            let page = try await browser.get(client, "/admin/contacts")
            #expect(page.status == .ok && Self.html(page).contains("IPEX"))
            // A tampered cookie is no session.
            var tampered = Browser()
            tampered.cookies[AdminSessionCookie.name] = "x" + session
            #expect(try await tampered.get(client, "/admin/contacts").status == .seeOther)

            // Signing out ends this session and any copy of it.
            let copy = browser
            let out = try await browser.post(client, "/admin/logout", [("csrf", try Self.csrf(page))])
            #expect(out.status == .seeOther && out.headers[.location] == "/admin/login")
            var replay = copy
            #expect(try await replay.get(client, "/admin/contacts").status == .seeOther)
        }
    }

    @Test func everyPageEnforcesTheRole() async throws {
        try await app.test(.router) { client in
            var reader = Browser()
            _ = try await reader.signIn(client, "ctenar", "hesloCtenar")
            #expect(try await reader.get(client, "/admin/contacts").status == .ok)
            for path in ["/admin/contacts/new", "/admin/upload", "/admin/labels", "/admin/tokens", "/admin/users"] {
                let refused = try await reader.get(client, path)
                #expect(refused.status == .forbidden, "\(path)")
                #expect(Self.html(refused).contains("reader"))
            }
            var editor = Browser()
            _ = try await editor.signIn(client, "editor", "hesloEditor")
            #expect(try await editor.get(client, "/admin/contacts/new").status == .ok)
            #expect(try await editor.get(client, "/admin/upload").status == .forbidden)
            var admin = Browser()
            _ = try await admin.signIn(client, "novak", "hesloNovak")
            for path in ["/admin/upload", "/admin/labels", "/admin/tokens", "/admin/users"] {
                #expect(try await admin.get(client, path).status == .ok, "\(path)")
            }
            // The same roles on the API: a reader cannot write, an editor cannot upload.
            let reading: HTTPFields = [.authorization: ServiceFixture.basic("ctenar", "hesloCtenar"), .contentType: "application/json"]
            let post = try await client.execute(uri: "/v3/contacts", method: .post, headers: reading, body: ByteBuffer(string: #"{"lastName":"X","phone1":"+420222333444"}"#))
            #expect(post.status == .forbidden)
            #expect(try await client.execute(uri: "/v3/contacts/lookup/222333444", method: .get, headers: reading).status == .notFound)
            let editing: HTTPFields = [.authorization: ServiceFixture.basic("editor", "hesloEditor"), .contentType: "application/json"]
            #expect(try await client.execute(uri: "/v3/contacts", method: .post, headers: editing, body: ByteBuffer(string: #"{"lastName":"X","phone1":"+420222333444"}"#)).status == .created)
            #expect(try await client.execute(uri: "/v3/users", method: .get, headers: editing).status == .forbidden)
        }
    }

    @Test func formsWithoutTheSessionsTokenAreRefused() async throws {
        try await app.test(.router) { client in
            var admin = Browser()
            _ = try await admin.signIn(client, "novak", "hesloNovak")
            let page = try await admin.get(client, "/admin/labels")
            let refused = try await admin.post(client, "/admin/labels", [("customField1", "Důležitost")])
            #expect(refused.status == .forbidden)
            let forged = try await admin.post(client, "/admin/labels", [("csrf", "forged"), ("customField1", "Důležitost")])
            #expect(forged.status == .forbidden)
            #expect(try store.organization(named: "IPEX")?.labels.isEmpty == true, "nothing changed")
            let saved = try await admin.post(client, "/admin/labels", [("csrf", try Self.csrf(page)), ("customField1", "Důležitost")])
            #expect(saved.status == .ok && Self.html(saved).contains("id=\"saved\""))
            #expect(try store.organization(named: "IPEX")?.labels == [.customField1: "Důležitost"])
            // Another session's token does not do either.
            var other = Browser()
            _ = try await other.signIn(client, "editor", "hesloEditor")
            let otherPage = try await other.get(client, "/admin/contacts/new")
            let crossed = try await admin.post(client, "/admin/labels", [("csrf", try Self.csrf(otherPage)), ("customField1", "Jiné")])
            #expect(crossed.status == .forbidden)
        }
    }

    /// Issue 32: a numeric externalId (the customer's `36936`) looks like a number, yet the search
    /// finds its contact — beside the contacts whose numbers match, which come first.
    @Test func theSearchFindsANumericExternalIdAndNumbers() async throws {
        _ = try store.importContacts(csv: Fixtures.maximalCSV, organizationID: try ipex.id, validator: .init())
        let novak = try #require(try store.fullLoad(organizationID: try ipex.id).contacts.first { $0.contact[.externalId] == "36936" })
        try await app.test(.router) { client in
            var admin = Browser()
            _ = try await admin.signIn(client, "novak", "hesloNovak")
            let byExternalID = Self.html(try await admin.get(client, "/admin/contacts?q=36936"))
            #expect(byExternalID.contains("/admin/contacts/\(novak.id)\"") && !byExternalID.contains("no-contacts"))
            let byNumber = Self.html(try await admin.get(client, "/admin/contacts?q=%2B420%20222%20333%20444"))
            #expect(byNumber.components(separatedBy: "<tr><td><a href=").count == 3, "both contacts of the number, once each")
            let neither = Self.html(try await admin.get(client, "/admin/contacts?q=99999"))
            #expect(neither.contains("no-contacts"))
        }
    }

    @Test func valuesAreEscapedAndOnlyWebLinksAreLinks() async throws {
        let validator = PhoneNumberValidator()
        let hostile = try Contact.validate(
            [.firstName: "<script>alert(1)</script>", .lastName: "\"onmouseover=\"x", .phone1: "+420222333444",
             .organization: "<b>IPEX</b>", .customField1: "<img src=x>", .customField1Uri: "https://crm.example.cz/a?b=c&d=e"],
            validator: validator).get()
        let stored = try store.create(hostile, organizationID: try ipex.id)
        try await app.test(.router) { client in
            var admin = Browser()
            _ = try await admin.signIn(client, "novak", "hesloNovak")
            for path in ["/admin/contacts", "/admin/contacts/\(stored.id)", "/admin/contacts/\(stored.id)/edit", "/admin/contacts?q=script"] {
                let html = Self.html(try await admin.get(client, path))
                #expect(!html.contains("<script>alert"), "\(path)")
                #expect(!html.contains("<img src=x>") && !html.contains("<b>IPEX</b>"), "\(path)")
                #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "\(path)")
            }
            let page = Self.html(try await admin.get(client, "/admin/contacts/\(stored.id)"))
            #expect(page.contains("href=\"https://crm.example.cz/a?b=c&amp;d=e\""))
            #expect(!page.contains("href=\"javascript"))
        }
    }

    @Test func anEditKeepsTheUriColumnsAndShowsTheRulesMessages() async throws {
        let validator = PhoneNumberValidator()
        let contact = try Contact.validate(
            [.firstName: "Jan", .lastName: "Novák", .phone1: "+420222333444", .nameUri: "https://crm.example.cz/jan",
             .customField1: "VIP", .customField1Uri: "https://crm.example.cz/vip", .organizationUri: "https://ipex.cz"],
            validator: validator).get()
        let stored = try store.create(contact, organizationID: try ipex.id)
        try await app.test(.router) { client in
            var editor = Browser()
            _ = try await editor.signIn(client, "editor", "hesloEditor")
            let form = try await editor.get(client, "/admin/contacts/\(stored.id)/edit")
            // The browser sends every field of the form as it is, the last name changed.
            var fields: [(String, String)] = [("csrf", try Self.csrf(form))]
            for field in ContactField.allCases { fields.append((field.rawValue, field == .lastName ? "Novák-Dvořák" : contact[field])) }
            let saved = try await editor.post(client, "/admin/contacts/\(stored.id)", fields)
            #expect(saved.status == .seeOther)
            let after = try #require(try store.contact(id: stored.id, organizationID: try ipex.id)).contact
            #expect(after[.lastName] == "Novák-Dvořák")
            #expect(after[.nameUri] == "https://crm.example.cz/jan" && after[.customField1Uri] == "https://crm.example.cz/vip"
                    && after[.organizationUri] == "https://ipex.cz")
            // A value the rules refuse: the form again, the message beside the field, nothing stored.
            var bad = fields
            bad[bad.firstIndex { $0.0 == ContactField.phone1.rawValue }!].1 = "12"
            let refused = try await editor.post(client, "/admin/contacts/\(stored.id)", bad)
            #expect(refused.status == .unprocessableContent)
            #expect(Self.html(refused).contains("class=\"field-error\" data-field=\"phone1\""))
            #expect(try store.contact(id: stored.id, organizationID: try ipex.id)?.contact[.phone1] == "+420222333444")
            // Search by a messy form of the number, and by name.
            for query in ["00420%20222-333-444", "222333444", "nov%C3%A1k-dvo"] {
                #expect(Self.html(try await editor.get(client, "/admin/contacts?q=\(query)")).contains("/admin/contacts/\(stored.id)"), "\(query)")
            }
            // Delete.
            let page = try await editor.get(client, "/admin/contacts/\(stored.id)")
            #expect(try await editor.post(client, "/admin/contacts/\(stored.id)/delete", [("csrf", try Self.csrf(page))]).status == .seeOther)
            #expect(try store.contact(id: stored.id, organizationID: try ipex.id) == nil)
        }
    }

    @Test func theUploadPageReportsAndADryRunChangesNothing() async throws {
        _ = try store.importContacts(csv: Fixtures.maximalCSV, organizationID: try ipex.id, validator: .init())
        let before = try store.fullLoad(organizationID: try ipex.id)
        let csv = "firstName;lastName;phone1\nJana;Nová;+420601222333\nZlý;Řádek;12345\n;;+420601222334\n"
        try await app.test(.router) { client in
            var admin = Browser()
            _ = try await admin.signIn(client, "novak", "hesloNovak")
            let form = try await admin.get(client, "/admin/upload")
            #expect(Self.html(form).contains("id=\"upload\"") && Self.html(form).contains("<script>"))
            let csrf = try Self.csrf(form)
            let checked = try await admin.upload(client, csv: csv, csrf: csrf, dryRun: true)
            let report = Self.html(checked)
            #expect(checked.status == .ok && report.contains("id=\"rejected\""))
            #expect(report.contains("data-count=\"imported\"><b>1</b>") && report.contains("data-count=\"rejected\"><b>2</b>"))
            #expect(report.contains("data-count=\"deleted\"><b>2</b>") && report.contains("download=\"rejected-rows.csv\""))
            #expect(report.contains("<td>3</td><td>phone1</td><td>12345</td>"))
            #expect(try store.fullLoad(organizationID: try ipex.id).contacts == before.contacts, "a dry run changes nothing")
            // Without the session's token: refused.
            #expect(try await admin.upload(client, csv: csv, csrf: "forged", dryRun: false).status == .forbidden)
            #expect(try store.fullLoad(organizationID: try ipex.id).contacts == before.contacts)
            let uploaded = try await admin.upload(client, csv: csv, csrf: csrf, dryRun: false)
            #expect(uploaded.status == .ok && Self.html(uploaded).contains("data-count=\"created\"><b>1</b>"))
            #expect(try store.fullLoad(organizationID: try ipex.id).contacts.map(\.contact.displayName) == ["Jana Nová"])
            // A file refused as a whole: the message, nothing changed.
            let refused = try await admin.upload(client, csv: "nonsense\n", csrf: csrf, dryRun: false)
            #expect(refused.status == .badRequest && Self.html(refused).contains("id=\"upload-error\""))
        }
    }

    @Test func tokensUsersAndLabelsThroughTheirForms() async throws {
        try await app.test(.router) { client in
            var admin = Browser()
            _ = try await admin.signIn(client, "novak", "hesloNovak")
            var page = try await admin.get(client, "/admin/tokens")
            let created = try await admin.post(client, "/admin/tokens", [("csrf", try Self.csrf(page)), ("scope", "lookup"), ("label", "FreeSWITCH <Brno>")])
            let secret = try #require(Self.html(created).range(of: "id=\"new-token\">").map { String(Self.html(created)[$0.upperBound...].prefix(52)) })
            #expect(AccessTokenRules.isTokenShaped(secret), "the token is shown once: \(secret)")
            #expect(Self.html(created).contains("FreeSWITCH &lt;Brno&gt;"))
            #expect(try store.authenticate(token: secret)?.scope == .lookup)
            #expect(!Self.html(try await admin.get(client, "/admin/tokens")).contains(secret), "never shown again")
            let revoked = try await admin.post(client, "/admin/tokens/1/revoke", [("csrf", try Self.csrf(created))])
            #expect(revoked.status == .seeOther)
            #expect(try store.authenticate(token: secret) == nil)

            page = try await admin.get(client, "/admin/users")
            let csrf = try Self.csrf(page)
            let added = try await admin.post(client, "/admin/users", [("csrf", csrf), ("login", "jana"), ("password", "hesloJana1"), ("role", "editor")])
            #expect(added.status == .ok && Self.html(added).contains("users-message"))
            #expect(try store.user(login: "jana")?.role == .editor)
            _ = try await admin.post(client, "/admin/users/jana/role", [("csrf", csrf), ("role", "reader")])
            #expect(try store.user(login: "jana")?.role == .reader)
            _ = try await admin.post(client, "/admin/users/jana/password", [("csrf", csrf), ("password", "noveHeslo1")])
            #expect(try store.signIn(login: "jana", password: "noveHeslo1") != nil)
            let last = try await admin.post(client, "/admin/users/novak/role", [("csrf", csrf), ("role", "reader")])
            #expect(last.status == .unprocessableContent && Self.html(last).contains("users-error"))
            _ = try await admin.post(client, "/admin/users/jana/delete", [("csrf", csrf)])
            #expect(try store.user(login: "jana") == nil)
            let taken = try await admin.post(client, "/admin/users", [("csrf", csrf), ("login", "novak"), ("password", "hesloDruhe1"), ("role", "reader")])
            #expect(taken.status == .conflict)
            // The password rule: 10 characters at least, not the login; nothing is stored.
            let short = try await admin.post(client, "/admin/users", [("csrf", csrf), ("login", "petr"), ("password", "hesloPetr"), ("role", "reader")])
            #expect(short.status == .unprocessableContent && Self.html(short).contains("at least 10 characters; this one has 9"))
            #expect(try store.user(login: "petr") == nil)
            let same = try await admin.post(client, "/admin/users", [("csrf", csrf), ("login", "dispecink01"), ("password", "Dispecink01"), ("role", "reader")])
            #expect(same.status == .unprocessableContent && Self.html(same).contains("must not be the login"))
            #expect(try store.user(login: "dispecink01") == nil)
            let shortNew = try await admin.post(client, "/admin/users/novak/password", [("csrf", csrf), ("password", "hesloNov9")])
            #expect(shortNew.status == .unprocessableContent && Self.html(shortNew).contains("at least 10 characters"))
            #expect(try store.signIn(login: "novak", password: "hesloNovak") != nil, "the old password stays")
        }
    }

    @Test func thePagesSpeakCzechWhenAskedTo() async throws {
        try await app.test(.router) { client in
            let czech = try await client.execute(uri: "/admin/login", method: .get, headers: [.acceptLanguage: "cs-CZ,cs;q=0.9,en;q=0.5"])
            #expect(Self.html(czech).contains("Přihlásit") && czech.headers[.contentLanguage] == "cs")
            let english = try await client.execute(uri: "/admin/login", method: .get, headers: [.acceptLanguage: "en-GB"])
            #expect(Self.html(english).contains("Sign in") && english.headers[.contentLanguage] == "en")
        }
    }

    @Test func theAPIsDryRunAndUsers() async throws {
        _ = try store.importContacts(csv: Fixtures.maximalCSV, organizationID: try ipex.id, validator: .init())
        let before = try store.fullLoad(organizationID: try ipex.id)
        let admin: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak"), .contentType: "application/json"]
        try await app.test(.router) { client in
            let boundary = "b0undary"
            let body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nfirstName;phone1\nJana;+420601222333\n\r\n--\(boundary)--\r\n"
            let checked = try await client.execute(
                uri: "/v3/contacts/upload?dryRun=true", method: .post,
                headers: [.authorization: ServiceFixture.basic("novak", "hesloNovak"), .contentType: "multipart/form-data; boundary=\(boundary)"],
                body: ByteBuffer(string: body))
            #expect(checked.status == .ok)
            let text = String(buffer: checked.body)
            #expect(text.contains(#""message":"checked""#) && text.contains(#""dryRun":true"#) && text.contains(#""deleted":2"#))
            #expect(try store.fullLoad(organizationID: try ipex.id).contacts == before.contacts)

            let listed = try await client.execute(uri: "/v3/users", method: .get, headers: admin)
            #expect(String(buffer: listed.body) == #"{"users":[{"login":"ctenar","role":"reader"},{"login":"editor","role":"editor"},{"login":"novak","role":"admin"}]}"#)
            let added = try await client.execute(
                uri: "/v3/users", method: .post, headers: admin, body: ByteBuffer(string: #"{"login":"jana","password":"hesloJana1","role":"editor"}"#))
            #expect(added.status == .created && String(buffer: added.body) == #"{"login":"jana","role":"editor"}"#)
            let jana: HTTPFields = [.authorization: ServiceFixture.basic("jana", "hesloJana1")]
            // The password rule, on adding and on changing: 9 characters or the login are refused.
            let short = try await client.execute(
                uri: "/v3/users", method: .post, headers: admin, body: ByteBuffer(string: #"{"login":"petr","password":"hesloPetr"}"#))
            #expect(short.status == .unprocessableContent && String(buffer: short.body).contains("at least 10 characters; this one has 9"))
            let same = try await client.execute(
                uri: "/v3/users", method: .post, headers: admin, body: ByteBuffer(string: #"{"login":"dispecink01","password":"DISPECINK01"}"#))
            #expect(same.status == .unprocessableContent && String(buffer: same.body).contains("must not be the login"))
            let shortNew = try await client.execute(uri: "/v3/users/jana", method: .patch, headers: admin, body: ByteBuffer(string: #"{"password":"hesloJan9"}"#))
            #expect(shortNew.status == .unprocessableContent)
            #expect(try await client.execute(uri: "/v3/whoami", method: .get, headers: jana).status == .ok, "the old password stays")
            #expect(try await client.execute(uri: "/v3/whoami", method: .get, headers: jana).status == .ok)
            // A login padded with any white space (a line break, U+2028) is stored trimmed, and the
            // answer names the stored user.
            let padded = try await client.execute(
                uri: "/v3/users", method: .post, headers: admin, body: ByteBuffer(string: #"{"login":"bob\n\u2028","password":"hesloBob12"}"#))
            #expect(padded.status == .created && String(buffer: padded.body) == #"{"login":"bob","role":"reader"}"#)
            #expect(padded.headers[.location] == "/v3/users/bob")
            #expect(try await client.execute(uri: "/v3/users/bob", method: .delete, headers: admin).status == .noContent)
            let promoted = try await client.execute(uri: "/v3/users/jana", method: .patch, headers: admin, body: ByteBuffer(string: #"{"role":"admin"}"#))
            #expect(String(buffer: promoted.body) == #"{"login":"jana","role":"admin"}"#)
            #expect(try await client.execute(uri: "/v3/users", method: .get, headers: jana).status == .ok, "the new role applies at once")
            let badRole = try await client.execute(uri: "/v3/users/jana", method: .patch, headers: admin, body: ByteBuffer(string: #"{"role":"boss"}"#))
            #expect(badRole.status == .badRequest)
            #expect(try await client.execute(uri: "/v3/users/jana", method: .delete, headers: admin).status == .noContent)
            #expect(try await client.execute(uri: "/v3/whoami", method: .get, headers: jana).status == .unauthorized)
            // The last admin stays.
            let last = try await client.execute(uri: "/v3/users/novak", method: .patch, headers: admin, body: ByteBuffer(string: #"{"role":"reader"}"#))
            #expect(last.status == .unprocessableContent && String(buffer: last.body).contains("last admin"))
            #expect(try await client.execute(uri: "/v3/users/novak", method: .delete, headers: admin).status == .unprocessableContent)
            #expect(try await client.execute(uri: "/v3/users/nikdo", method: .delete, headers: admin).status == .notFound)
        }
    }
}

/// The session cookie's name, as a browser sees it.
enum AdminSessionCookie {
    static let name = "clk_session"
}

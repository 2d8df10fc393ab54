import PhoneNumbers
import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

@testable import CallerService

/// The third security round, in-process: popup links that die with the credential behind them
/// and with their lifetime, no state change from another site, sessions of a removed login that
/// never come back, formula-safe CSV downloads, line-safe agent tags, the credentials cache keyed
/// by the credentials and evicting one entry, and 403s that name a user's role.
@Suite struct SecurityTests {
    let fixture: ServiceFixture
    var store: SQLiteStore { fixture.store }
    let ipex: Organization
    static let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak")]

    init() throws {
        fixture = try ServiceFixture()
        ipex = try #require(try fixture.store.organization(named: "IPEX"))
        let csv = "firstName;lastName;phone1;email;agent1;agent2\nJan;Novák;+420 222 333 444;jan@novak.com;22;100\n"
        _ = try fixture.store.importContacts(csv: Array(csv.utf8), organizationID: ipex.id, validator: .init())
    }

    var app: some ApplicationProtocol { buildApplication(configuration: ServiceConfiguration(), store: store) }

    /// A popup link without its expiry and MAC.
    static func unexpiring(_ link: String) -> String {
        link.split(separator: ".").dropLast(2).joined(separator: ".")
    }

    /// The path and query of a link the test client can follow.
    static func path(_ link: String) -> String {
        link.replacingOccurrences(of: "http://localhost", with: "")
    }

    @Test func aTokensPopupLinkEndsWhenTheTokenIsRevoked() async throws {
        let (token, secret) = try store.createToken(organizationID: ipex.id, scope: .lookup, label: "FreeSWITCH")
        try await app.test(.router) { client in
            let name = try await client.execute(uri: "/v3/contacts/name/+420222333444?token=\(secret)", method: .get)
            let link = try #require(name.headers[HTTPField.Name("X-Caller-Url")!])
            #expect(link.contains("&token=v2.") && !link.contains(secret), "\(link)")
            let page = try await client.execute(uri: Self.path(link), method: .get)
            #expect(page.status == .ok && String(buffer: page.body).contains("Jan Novák"))
            // The link opens this caller's page only.
            let other = Self.path(link).replacingOccurrences(of: "number=%2B420222333444", with: "number=%2B420601000009")
            #expect(try await client.execute(uri: other, method: .get).status == .forbidden)
            // The JSON answer carries the same link, for clients that read only the body (3CX).
            // (Signed a moment later: its expiry may be the next minute's, so that and the MAC aside.)
            let lookup = try await client.execute(uri: "/v3/contacts/lookup/+420222333444", method: .get, headers: [.authorization: "Bearer \(secret)"])
            let url = try #require(String(buffer: lookup.body).firstMatch(of: /"url":"([^"]+)"/)?.1)
            #expect(Self.unexpiring(String(url)) == Self.unexpiring(link))
            #expect(try await client.execute(uri: Self.path(String(url)), method: .get).status == .ok)

            #expect(try await client.execute(uri: "/v3/tokens/\(token.id)", method: .delete, headers: Self.novak).status == .ok)
            let after = try await client.execute(uri: Self.path(link), method: .get)
            #expect(after.status == .forbidden)
            #expect(!String(buffer: after.body).contains("Novák") && !String(buffer: after.body).contains("jan@novak.com"))
        }
    }

    @Test func aUsersPopupLinkEndsWithTheUserAndNeverComesBackWithTheLogin() async throws {
        try store.addUser(login: "rita", password: "hesloRita1", role: .reader, organizationID: ipex.id)
        let rita: HTTPFields = [.authorization: ServiceFixture.basic("rita", "hesloRita1")]
        try await app.test(.router) { client in
            let name = try await client.execute(uri: "/v3/contacts/name/+420222333444", method: .get, headers: rita)
            let link = try #require(name.headers[HTTPField.Name("X-Caller-Url")!])
            #expect(try await client.execute(uri: Self.path(link), method: .get).status == .ok)
            #expect(try await client.execute(uri: "/v3/users/rita", method: .delete, headers: Self.novak).status == .noContent)
            #expect(try await client.execute(uri: Self.path(link), method: .get).status == .forbidden)
            // The same login, created again with the same password: still not the old link's.
            try store.addUser(login: "rita", password: "hesloRita1", role: .admin, organizationID: ipex.id)
            #expect(try await client.execute(uri: Self.path(link), method: .get).status == .forbidden)
        }
    }

    @Test func aPopupLinkExpiresAndEndsWithARotationOnEveryPath() async throws {
        var configuration = ServiceConfiguration()
        configuration.popupLinkMinutes = 2
        let recordStore = SQLiteRecordStore(store)
        let links = PopupLinks(store: recordStore, configuration: configuration)
        let account = try #require(try store.user(login: "novak"))
        let holder = LinkHolder.user(login: "novak", sessionEpoch: account.sessionEpoch)
        let now: Int64 = 1_800_000_000
        let number = "+420222333444"
        let token = try #require(await links.token(organizationID: ipex.id, holder: holder, number: number, now: now))
        #expect(try await links.organization(linkToken: token, number: number, now: now)?.id == ipex.id)
        #expect(try await links.organization(linkToken: token, number: number, now: now + 119)?.id == ipex.id, "two minutes")
        #expect(try await links.organization(linkToken: token, number: number, now: now + 181) == nil, "at most a minute past its lifetime")
        #expect(try await links.organization(linkToken: token, number: "+420222333445", now: now) == nil, "another caller's page")
        // Another holder, an altered expiry or another organization under the same signature: refused.
        let parts = token.split(separator: ".").map(String.init)
        for (index, value) in [(3, LinkHolder.token(id: 1).encoded), (4, String(now + 100_000)), (1, "2")] {
            var forged = parts
            forged[index] = value
            #expect(try await links.organization(linkToken: forged.joined(separator: "."), number: number, now: now) == nil, "\(forged)")
        }
        // A new password moves the session epoch: the link ends.
        _ = try store.updateUser(login: "novak", organizationID: ipex.id, role: nil, password: "noveHesloNovak")
        #expect(try await links.organization(linkToken: token, number: number, now: now) == nil)

        // Rotating through the API ends the links handed out before, and the standing link.
        try await app.test(.router) { client in
            let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "noveHesloNovak")]
            let name = try await client.execute(uri: "/v3/contacts/name/+420222333444", method: .get, headers: novak)
            let link = try #require(name.headers[HTTPField.Name("X-Caller-Url")!])
            let standing = try await client.execute(uri: "/v3/popup-link", method: .get, headers: novak)
            #expect(standing.status == .ok)
            let standingToken = try #require(
                (try JSONSerialization.jsonObject(with: Data(String(buffer: standing.body).utf8)) as? [String: String])?["token"])
            #expect(String(buffer: standing.body).contains("/popup?token=\(standingToken)&number={NUMBER}"))
            #expect(try await client.execute(uri: "/popup?token=\(standingToken)&number=%2B420222333444", method: .get).status == .ok)
            #expect(try await client.execute(uri: Self.path(link), method: .get).status == .ok)
            let rotated = try await client.execute(uri: "/v3/popup-link/rotate", method: .post, headers: novak)
            #expect(rotated.status == .ok && !String(buffer: rotated.body).contains(standingToken))
            #expect(try await client.execute(uri: Self.path(link), method: .get).status == .forbidden)
            #expect(try await client.execute(uri: "/popup?token=\(standingToken)&number=%2B420222333444", method: .get).status == .forbidden)
            // Fresh links work again.
            let fresh = try await client.execute(uri: "/v3/contacts/name/+420222333444", method: .get, headers: novak)
            #expect(try await client.execute(uri: Self.path(try #require(fresh.headers[HTTPField.Name("X-Caller-Url")!])), method: .get).status == .ok)
        }
    }

    /// An upload as a form on another site would send it, with the Basic credentials the browser
    /// keeps: refused, every contact kept.
    @Test func noStateChangeFromAnotherSite() async throws {
        let (_, admin) = try store.createToken(organizationID: ipex.id, scope: .admin, label: "CRM")
        let csv = "lastName;phone1\nCizí;+420 601 000 001\n"
        @Sendable func upload(_ extra: HTTPFields, fileName: Bool = true) -> (HTTPFields, ByteBuffer) {
            let disposition = fileName ? "form-data; name=\"file\"; filename=\"a.csv\"" : "form-data; name=\"file\""
            var headers = Self.novak
            headers[.contentType] = "multipart/form-data; boundary=XyZ"
            for field in extra { headers[field.name] = field.value }
            return (headers, ByteBuffer(string: "--XyZ\r\nContent-Disposition: \(disposition)\r\n\r\n\(csv)\r\n--XyZ--\r\n"))
        }
        try await app.test(.router) { client in
            func status(_ headers: HTTPFields, _ body: ByteBuffer, path: String = "/v3/contacts/upload") async throws -> HTTPResponse.Status {
                try await client.execute(uri: path, method: .post, headers: headers, body: body).status
            }
            let fetchSite = HTTPField.Name("Sec-Fetch-Site")!
            for extra: HTTPFields in [
                [.origin: "https://evil.example"], [fetchSite: "cross-site"], [fetchSite: "same-site"], [.origin: "null"],
                [.origin: "https://evil.example", fetchSite: "cross-site"],
            ] {
                let (headers, body) = upload(extra)
                #expect(try await status(headers, body) == .forbidden, "\(extra)")
            }
            // A text field named file, as a cross-site form fills it in without a chosen file.
            let (plainHeaders, plainBody) = upload([:], fileName: false)
            #expect(try await status(plainHeaders, plainBody) == .badRequest)
            // JSON routes too, and the admin pages' sign-in.
            var json = Self.novak
            json[.contentType] = "application/json"
            json[.origin] = "https://evil.example"
            #expect(try await status(json, ByteBuffer(string: #"{"lastName":"X","phone1":"+420601000002"}"#), path: "/v3/contacts") == .forbidden)
            #expect(try await client.execute(
                uri: "/admin/login", method: .post, headers: [.origin: "https://evil.example", .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "login=novak&password=hesloNovak")).status == .forbidden)
            let kept = try await client.execute(uri: "/v3/contacts/name/+420222333444", method: .get, headers: Self.novak)
            #expect(String(buffer: kept.body) == "Jan Novák", "nothing was replaced")

            // This service's own pages, curl (no Origin), and a bearer token from anywhere: let in.
            let (same, sameBody) = upload([.origin: "http://localhost", fetchSite: "same-origin"])
            #expect(try await status(same, sameBody) == .ok)
            var bearer = upload([.origin: "https://crm.example", fetchSite: "cross-site"])
            bearer.0[.authorization] = "Bearer \(admin)"
            #expect(try await status(bearer.0, bearer.1) == .ok)
            let (curl, curlBody) = upload([:])
            #expect(try await status(curl, curlBody) == .ok)
        }
    }

    @Test func aRemovedLoginsSessionNeverComesBack() async throws {
        try store.addUser(login: "rita", password: "hesloRita1", role: .admin, organizationID: ipex.id)
        try await app.test(.router) { client in
            var browser = AdminPagesTests.Browser()
            #expect(try await browser.signIn(client, "rita", "hesloRita1").status == .seeOther)
            #expect(try await browser.get(client, "/admin/users").status == .ok)
            let old = browser
            try store.removeUser(login: "rita", organizationID: ipex.id)
            try store.addUser(login: "rita", password: "hesloRita1", role: .admin, organizationID: ipex.id)
            var replay = old
            let page = try await replay.get(client, "/admin/users")
            #expect(page.status == .seeOther && page.headers[.location] == "/admin/login", "the old cookie is no session of the new rita")
        }
    }

    @Test func theRejectedRowsDownloadNeutralizesFormulas() async throws {
        try await app.test(.router) { client in
            var browser = AdminPagesTests.Browser()
            _ = try await browser.signIn(client, "novak", "hesloNovak")
            let form = try await browser.get(client, "/admin/upload")
            let csv = "lastName;phone1\nA;=1+2\nB;@SUM(1+1)\nC;-2+3\nD;+cmd|' /C calc'!A0\nE;+420 601 222 333\n"
            let report = AdminPagesTests.html(try await browser.upload(client, csv: csv, csrf: try AdminPagesTests.csrf(form), dryRun: true))
            let marker = "href=\"data:text/csv;charset=utf-8,"
            let start = try #require(report.range(of: marker)).upperBound
            let encoded = String(report[start...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
            let download = try #require(encoded.removingPercentEncoding)
            for value in ["=1+2", "@SUM(1+1)", "-2+3", "+cmd|' /C calc'!A0"] {
                #expect(download.contains("\"'\(value.replacingOccurrences(of: "\"", with: "\"\""))\""), "\(value) in \(download)")
            }
            for cell in download.split(separator: "\r\n").flatMap({ $0.split(separator: ";") }) {
                let text = cell.hasPrefix("\"") ? cell.dropFirst() : cell
                #expect(!["=", "+", "-", "@"].contains(text.first.map(String.init) ?? ""), "\(cell)")
            }
        }
    }

    @Test func agentTagsAreLineSafeInEveryPhoneSystemFormat() async throws {
        let csv = "lastName;phone1;agent1;agent2\nZlý;+420 601 000 009;${SHELL(id)};\"a\nb\r\nc\"\n"
        _ = try store.importContacts(csv: Array(csv.utf8), organizationID: ipex.id, validator: .init())
        try await app.test(.router) { client in
            var plain = Self.novak
            plain[.accept] = "text/plain"
            let route = try await client.execute(uri: "/v3/contacts/route/+420601000009", method: .get, headers: plain)
            let text = String(buffer: route.body)
            #expect(route.status == .ok && text == "{SHELL(id)},a b c\n", "one line, nothing to expand: \(text)")
            let kv = String(buffer: try await client.execute(uri: "/v3/contacts/route/+420601000009?format=kv", method: .get, headers: Self.novak).body)
            #expect(kv.contains("agents=%7BSHELL%28id%29%7D%2Ca%20b%20c&"), "\(kv)")
            #expect(!kv.contains("%0A") && !kv.contains("%0D") && !kv.contains("%24%7B"))
            let json = String(buffer: try await client.execute(uri: "/v3/contacts/route/+420601000009", method: .get, headers: Self.novak).body)
            #expect(json.contains(#""agents":["{SHELL(id)}","a b c"]"#), "\(json)")
            let header = route.headers[HTTPField.Name("X-Caller-Agents")!]
            #expect(header == "{SHELL(id)},a b c")
            let phonebook = String(buffer: try await client.execute(uri: "/v3/phonebook/yealink.xml", method: .get, headers: Self.novak).body)
            #expect(!phonebook.contains("${"))
        }
    }

    @Test func theCredentialsCacheKeysByCredentialsAndEvictsOne() async throws {
        var configuration = ServiceConfiguration()
        configuration.credentialCacheSize = 3
        let verified = Counter()
        let authenticator = Authenticator(configuration: configuration) { credentials in
            verified.add()
            return .valid(ipex, .lookup, nil)
        }
        let token = "clk_" + String(repeating: "a", count: 40)
        for header in ["Bearer \(token)", "bearer   \(token)  ", "BEARER \(token)", ServiceFixture.basic("token", token)] {
            guard case .allowed = await authenticator.authenticate(authorization: header, client: "10.0.0.1") else {
                Issue.record("\(header) was not let in")
                continue
            }
        }
        #expect(verified.value == 1, "spacing and case variants of one token are one entry")
        for login in ["a", "b", "c"] {
            _ = await authenticator.authenticate(authorization: ServiceFixture.basic(login, "heslo"), client: "10.0.0.1")
        }
        #expect(authenticator.rememberedCount == 3, "a full cache loses one entry for a new one, not all")
    }

    /// The HMAC under every signature (sessions, popup links) is RFC 2104's: RFC 4231's vectors,
    /// a key longer than a block among them. Existing cookies and links keep verifying.
    @Test func hmacSHA256MatchesRFC4231() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(Crypto.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(hex(Crypto.hmacSHA256(key: [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8)))
            == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(hex(Crypto.hmacSHA256(key: [UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
            == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        #expect(Crypto.base64url([0xfb, 0xff]) == "-_8" && Crypto.base64url(Array("any carnal pleas".utf8)) == "YW55IGNhcm5hbCBwbGVhcw")
    }

    @Test func aUserRefusedAWriteIsToldTheirRole() async throws {
        try store.addUser(login: "ctenar", password: "hesloCtenar", role: .reader, organizationID: ipex.id)
        try await app.test(.router) { client in
            let response = try await client.execute(
                uri: "/v3/contacts", method: .post,
                headers: [.authorization: ServiceFixture.basic("ctenar", "hesloCtenar"), .contentType: "application/json"],
                body: ByteBuffer(string: #"{"lastName":"X","phone1":"+420601000002"}"#))
            let body = String(buffer: response.body)
            #expect(response.status == .forbidden && body.contains("role is 'reader'") && !body.contains("token's scope"), "\(body)")
        }
    }
}

/// A count that `@Sendable` closures may bump.
final class Counter: @unchecked Sendable {
    // @unchecked: `count` is only touched under `lock`.
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

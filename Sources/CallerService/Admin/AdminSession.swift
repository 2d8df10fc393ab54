import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import StoreContract

/// A signed-in user of the admin pages, from the session cookie.
struct AdminSession: Sendable {
    let account: UserAccount
    let organization: Organization
    /// When the session began and when it was last used (seconds since 1970).
    let issued: Int64
    let lastSeen: Int64
    /// The cookie's MAC: the CSRF token of the session's forms is derived from it.
    let mac: [UInt8]

    var role: UserRole { account.role }
}

/// The admin pages' session cookies and CSRF tokens, stateless so that any node behind a
/// balancer accepts any node's sessions: the cookie `clk_session` is
/// `base64url(login␟organization␟epoch␟issued␟lastSeen).base64url(HMAC-SHA256)` under a key
/// derived from the store's secret. A session ends at its lifetime (`admin.sessionhours`), after
/// `admin.idleminutes` unused, or when the user's session epoch moves (sign-out, a new password);
/// the user's role is read from the store on every request, so a role change applies at once.
///
/// Every form that changes anything carries the session's CSRF token (an HMAC of the cookie's
/// MAC); the sign-in form, before any session, a random value also set as the cookie
/// `clk_login` (double submit). Cookies are `HttpOnly`, `SameSite=Strict`, `Path=/admin`, and
/// `Secure` when the service is reached over https (`http.publicurl`, or `X-Forwarded-Proto`).
struct AdminSessions: Sendable {
    static let cookie = "clk_session"
    static let loginCookie = "clk_login"
    let state: ServiceState

    var lifetime: Int64 { Int64(state.configuration.adminSessionHours * 3_600) }
    var idle: Int64 { Int64(state.configuration.adminIdleMinutes * 60) }

    private static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    /// The session of the request's cookie, if it is valid now; `refresh` is a new cookie to
    /// send when the last use is more than a minute old (the idle timeout slides).
    func session(_ request: Request) async -> (session: AdminSession, refresh: String?)? {
        guard let value = Self.cookie(Self.cookie, in: request),
            let key = try? await state.store.sessionKey()
        else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Crypto.unbase64url(parts[0]), let mac = Crypto.unbase64url(parts[1]),
            Crypto.constantTimeEqual(Crypto.hmacSHA256(key: key, payload), mac)
        else { return nil }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "\u{1F}", omittingEmptySubsequences: false)
        guard fields.count == 5, let organizationID = Int64(fields[1]), let epoch = Int64(fields[2]), let issued = Int64(fields[3]),
            let lastSeen = Int64(fields[4])
        else { return nil }
        let now = Self.now
        guard now - issued < lifetime, now - lastSeen < idle, lastSeen <= now + 60 else { return nil }
        guard let account = try? await state.store.user(login: String(fields[0])), account.organizationID == organizationID,
            account.sessionEpoch == epoch, let organization = try? await state.store.organization(id: organizationID)
        else { return nil }
        let session = AdminSession(account: account, organization: organization, issued: issued, lastSeen: lastSeen, mac: mac)
        let refresh = now - lastSeen > 60 ? try? await cookieValue(for: account, issued: issued) : nil
        return (session, refresh)
    }

    /// A new session's cookie value.
    func cookieValue(for account: UserAccount, issued: Int64? = nil) async throws -> String {
        let key = try await state.store.sessionKey()
        let payload = Array("\(account.login)\u{1F}\(account.organizationID)\u{1F}\(account.sessionEpoch)\u{1F}\(issued ?? Self.now)\u{1F}\(Self.now)".utf8)
        return Crypto.base64url(payload) + "." + Crypto.base64url(Crypto.hmacSHA256(key: key, payload))
    }

    /// The CSRF token of the session's forms.
    func csrf(_ session: AdminSession) async -> String {
        guard let key = try? await state.store.sessionKey() else { return "" }
        return Crypto.base64url(Crypto.hmacSHA256(key: key, Array("csrf".utf8) + session.mac))
    }

    /// Whether `token` is the session's CSRF token (compared in constant time).
    func checkCSRF(_ token: String?, _ session: AdminSession) async -> Bool {
        guard let token else { return false }
        let expected = await csrf(session)
        return !expected.isEmpty && Crypto.constantTimeEqual(Array(expected.utf8), Array(token.utf8))
    }

    /// `Set-Cookie` for the session cookie (`nil`: clear it).
    func setCookie(_ value: String?, request: Request) -> String {
        Self.setCookie(Self.cookie, value, maxAge: value == nil ? 0 : Int(lifetime), secure: secure(request))
    }

    /// `Set-Cookie` for the sign-in form's double-submit value.
    func setLoginCookie(_ value: String, request: Request) -> String {
        Self.setCookie(Self.loginCookie, value, maxAge: 3_600, secure: secure(request))
    }

    private static func setCookie(_ name: String, _ value: String?, maxAge: Int, secure: Bool) -> String {
        "\(name)=\(value ?? ""); Path=/admin; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// Served over https: the public URL says so, or the proxy in front of the node does.
    func secure(_ request: Request) -> Bool {
        state.configuration.publicURL?.lowercased().hasPrefix("https://") == true
            || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    /// A fresh random value (the sign-in form's CSRF value).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Crypto.base64url((0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The value of cookie `name` in the request's `Cookie` headers.
    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix(name + "=") { return String(trimmed.dropFirst(name.count + 1)) }
            }
        }
        return nil
    }

}

import ContactStore
import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import LookupIndex
import NIOCore
import PhoneNumbers

/// `GET /popup?number=…`: the screen-pop page of an incoming call (`PopupPage`).
///
/// Let in by HTTP Basic credentials (the browser asks), by the organization's signed link token
/// (`&token=v1.…`, `caller-lookup org popup-link`), which a PBX can put in the URL its softphones
/// open — the URL then carries the token and the number, nothing else — or by an access token of
/// any scope (`Authorization: Bearer`, or `&token=clk_…`).
struct PopupHandler: Sendable {
    let state: ServiceState

    @Sendable func popup(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let query = Query(context)
        let language = PopupLanguage.preferred(request.headers[.acceptLanguage])
        let number: String?
        let token: String?
        do {
            number = try query.string("number")
            token = try query.string("token")
        } catch {
            return Self.plain(.badRequest, error.message)
        }
        guard let raw = number, raw.unicodeScalars.count <= 64,
            raw.unicodeScalars.contains(where: { !CharacterSet.whitespacesAndNewlines.contains($0) && $0 != "\u{FEFF}" })
        else {
            return Self.plain(.badRequest, "Give the caller's number as /popup?number=… (at most 64 characters).")
        }
        let organization: Organization
        if let token, token.hasPrefix("v1.") {
            guard let found = try? await state.store.organization(popupToken: token) else {
                return Self.plain(.forbidden, "This popup link is not valid (wrong or revoked token).")
            }
            organization = found
        } else {
            // A user's login, or an access token (any scope: the popup only reads) as
            // `Authorization: Bearer` or `?token=`.
            switch await state.authenticator.authenticate(
                authorization: Authentication.authorization(request, context: context), client: context.clientAddress)
            {
            case .allowed(let found, _):
                organization = found
            case .throttled(_, let retryAfter):
                var response = Self.plain(.tooManyRequests, "Too many failed logins. Try again in \(retryAfter) s.")
                response.headers[.retryAfter] = String(retryAfter)
                return response
            case .denied, .unavailable:
                var response = Self.plain(.unauthorized, "Log in with your caller-lookup account, or use the organization's popup link.")
                response.headers[.wwwAuthenticate] = "Basic realm=\"caller-lookup\", charset=\"UTF-8\""
                return response
            }
        }
        let entry = try state.indexes.entry(for: organization)
        let result = entry.lookup.lookUp(raw, in: entry.index.snapshot)
        let snapshot = result.snapshot
        let cards = snapshot.refs(result.matches).map { ref in
            let contact = snapshot.storedContact(ref).contact
            return PopupPage.Card(contact: contact, phones: contact.phoneNumbers.map { format($0, for: organization) })
        }
        let shown = result.normalized.map { format($0, for: organization) } ?? raw
        let html = PopupPage.render(
            number: raw, formattedNumber: shown, cards: cards, suffixMatch: result.match == .suffix,
            labels: snapshot.labels, language: language)
        var response = Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        Self.secure(&response)
        response.headers[.contentLanguage] = language.code
        response.headers[.vary] = "Accept-Language, Authorization"
        return response
    }

    /// National format for numbers of the organization's region, international for the rest.
    private func format(_ number: PhoneNumber, for organization: Organization) -> String {
        let validator = state.validator
        let region = validator.validate(number.e164).validNumber?.region
        let style: PhoneNumberFormat = region == organization.defaultRegion ? .national : .international
        return validator.format(number, as: style) ?? number.e164
    }

    private static func plain(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var response = HTTPAnswer.text(status, message + "\n")
        secure(&response)
        return response
    }

    /// The page's security headers: a strict CSP (only its own inline style, by hash), no sniffing,
    /// no referrer (the token stays out of the CRM's logs), never cached.
    private static func secure(_ response: inout Response) {
        response.headers[.contentSecurityPolicy] = PopupPage.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[.cacheControl] = "no-store"
    }
}

/// The popup link of a lookup's answer (`X-Caller-Url`, `url=` of `?format=kv`, 3CX's
/// ContactUrl): `BASE/popup?number=%2B420…&token=v1.…` with the organization's signed link token,
/// so an agent's click opens the caller's page without a login.
///
/// `BASE` is `http.publicurl` when set, else `http://` and the request's `Host` (an API node), or
/// the API's URL (a mirror, which does not serve the popup). A mirror has no link token (it does
/// not hold the signing key): its links ask the agent to log in.
struct PopupLinks: Sendable {
    let base: String?
    /// The organization's current link token; `nil` when there is none to give.
    let token: @Sendable (Organization) async -> String?

    func url(organization: Organization, number: PhoneNumber?, request: Request) async -> String? {
        guard let number else { return nil }
        let base = self.base ?? request.head.authority.flatMap { host in
            // A Host with anything but a host name and port is not put in a link.
            host.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "@") }
                ? "http://\(host)" : nil
        }
        guard let base else { return nil }
        var url = base + "/popup?number=%2B" + String(number.rawValue)
        if let token = await token(organization) { url += "&token=" + token }
        return url
    }
}

/// The link tokens of an API node's organizations, read once from the store and forgotten when
/// the store's credentials version moves (a rotation).
final class PopupLinkTokens: @unchecked Sendable {
    // @unchecked: `tokens` is only touched under `lock`.
    private let lock = NSLock()
    private var tokens: [Int64: String] = [:]
    private let store: any RecordStore

    init(store: any RecordStore) { self.store = store }

    func token(_ organization: Organization) async -> String? {
        if let known = lock.withLock({ tokens[organization.id] }) { return known }
        guard let token = try? await store.popupToken(organizationID: organization.id) else { return nil }
        lock.withLock { tokens[organization.id] = token }
        return token
    }

    func forgetAll() {
        lock.withLock { tokens.removeAll() }
    }
}

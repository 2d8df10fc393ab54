import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import LookupIndex
import NIOCore
import PhoneNumbers
import StoreContract

/// `GET /popup?number=…`: the screen-pop page of an incoming call (`PopupPage`).
///
/// Let in by the link of a lookup's answer (`&token=v2.…`, `PopupLinks`: for a while, and while
/// the credential that looked the caller up stands), by the organization's standing link token
/// (`&token=v1.…`, `caller-lookup org popup-link` or `/v3/popup-link`), which a PBX can put in the
/// URL its softphones open — the URL then carries the token and the number, nothing else — or by
/// an access token of any scope or a user's login (`Authorization`, or `&token=clk_…`).
///
/// A page without valid credentials is 401 *without* an HTTP Basic challenge: a browser that was
/// asked would keep the agent's password for the whole host and send it with any other site's
/// requests to it. Agents come in through their links.
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
        if let token, token.hasPrefix("v2.") {
            let found: Organization?
            do {
                found = try await state.popupLinks.organization(linkToken: token, number: raw)
            } catch {
                var response = Self.plain(.serviceUnavailable, "This popup link cannot be checked just now. Try again in a moment.")
                response.headers[.retryAfter] = "5"
                return response
            }
            guard let found else {
                return Self.plain(
                    .forbidden,
                    "This popup link has expired or was revoked. Open the caller again from your phone system for a fresh link.")
            }
            organization = found
        } else if let token, token.hasPrefix("v1.") {
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
            case .allowed(let found, _, _):
                organization = found
            case .throttled(_, let retryAfter):
                var response = Self.plain(.tooManyRequests, "Too many failed logins. Try again in \(retryAfter) s.")
                response.headers[.retryAfter] = String(retryAfter)
                return response
            case .denied, .unavailable:
                return Self.plain(
                    .unauthorized,
                    "This page opens from a link of your phone system or CRM (it carries a token). Open the caller again from there.")
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

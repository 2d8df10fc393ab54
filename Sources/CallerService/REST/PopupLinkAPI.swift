import Contacts
import Hummingbird
import StoreContract

/// `/v3/popup-link` (scope `admin`): the organization's standing popup link — the one a PBX puts
/// in the URL its softphones open, `BASE/popup?token=v1.…&number={NUMBER}` — and its rotation,
/// which ends that link and every link a lookup handed out, on every node at once (each popup view
/// checks the store).
extension Handlers {
    /// `GET /v3/popup-link` → `{"url":"…&number={NUMBER}","token":"v1.…"}`.
    @Sendable func popupLink(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        return popupLinkAnswer(try await state.store.popupToken(organizationID: organization.id), request: request)
    }

    /// `POST /v3/popup-link/rotate` → the new link, as `GET` answers it.
    @Sendable func rotatePopupLink(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let token = try await state.store.rotatePopupToken(organizationID: organization.id)
        state.credentialsChanged()
        return popupLinkAnswer(token, request: request)
    }

    private func popupLinkAnswer(_ token: String, request: Request) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("url", PopupTokenRules.standingPopupLink(token: token, base: baseURL(request)))
        writer.field("token", token)
        writer.endObject()
        var response = HTTPAnswer.json(.ok, writer.bytes)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// This node's base URL, as its popup links have it (`PopupLinks.base`); the default address
    /// for a request without a usable `Host`.
    func baseURL(_ request: Request) -> String {
        PopupLinks.base(publicURL: state.configuration.publicURL, request: request) ?? "http://127.0.0.1:8080"
    }
}

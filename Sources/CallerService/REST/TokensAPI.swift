import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StoreContract

/// `/v3/tokens` (scope `admin`): the organization's access tokens — created (the secret is in that
/// answer only), listed without secrets, revoked. A revocation is in force for this node's next
/// request at once; other processes on the store forget their remembered credentials when they
/// see the store's credentials version move (`StoreFollowerService`), mirrors after
/// `auth.cacheseconds`.
extension Handlers {
    /// `GET /v3/tokens` → `{"tokens":[{id, scope, label, prefix, created, revoked}]}`, revoked ones
    /// too, by id.
    @Sendable func listTokens(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let tokens = try await state.store.tokens(organizationID: organization.id)
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("tokens")
        writer.beginArray()
        for token in tokens { Self.write(token, secret: nil, to: &writer) }
        writer.endArray()
        writer.endObject()
        return HTTPAnswer.json(.ok, writer.bytes)
    }

    /// `POST /v3/tokens` with `{"scope":"lookup"|"write"|"admin","label":"…"}` → 201 with the
    /// token's record and `"token"`, the secret, shown this once.
    @Sendable func createToken(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let (scope, label) = try Self.tokenRequest(try await jsonBody(request, limit: 4_096))
        let (token, secret) = try await state.store.createToken(organizationID: organization.id, scope: scope, label: label)
        var writer = JSONWriter()
        Self.write(token, secret: secret, to: &writer)
        var response = HTTPAnswer.json(.created, writer.bytes)
        response.headers[.location] = "/v3/tokens/\(token.id)"
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// `DELETE /v3/tokens/{id}` → 200 with the revoked token's record; 404 for an id the
    /// organization never had. Revoking twice changes nothing.
    @Sendable func revokeToken(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
            return HTTPAnswer.error(.notFound, "A token id is a positive integer (see GET /v3/tokens).")
        }
        let token = try await state.store.revokeToken(id: id, organizationID: organization.id)
        state.credentialsChanged()
        var writer = JSONWriter()
        Self.write(token, secret: nil, to: &writer)
        return HTTPAnswer.json(.ok, writer.bytes)
    }

    /// The scope and label of a creation request; anything else in it is a 400 that says what.
    static func tokenRequest(_ bytes: [UInt8]) throws -> (AccessScope, String) {
        var scanner = JSONScanner(bytes)
        var scope: String?
        var label = ""
        do throws(JSONScanner.Failure) {
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                switch key {
                case "scope": scope = try scanner.string()
                case "label": label = try scanner.null() ? "" : scanner.string()
                default: throw JSONScanner.Failure(description: "unknown member '\(key.prefix(40))' (a token request has scope and label)")
                }
            }
            try ChangeFeedJSON.trailing(&scanner)
        } catch {
            throw InputError("The body is not a token request, {\"scope\":\"lookup\",\"label\":\"FreeSWITCH\"}: \(error.description).")
        }
        guard let scope else { throw InputError("Give the token's scope: {\"scope\":\"lookup\"} (or write, admin).") }
        guard let known = AccessScope(rawValue: scope) else {
            throw InputError("A token's scope is lookup, write or admin; '\(scope.prefix(40))' is not.")
        }
        return (known, label)
    }

    /// `{"id","scope","label","prefix","created","revoked"[,"token"]}`, times in ISO 8601 UTC.
    static func write(_ token: AccessToken, secret: String?, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", Int(token.id))
        writer.field("scope", token.scope.rawValue)
        writer.field("label", token.label)
        writer.field("prefix", token.prefix)
        writer.field("created", isoTime(token.created))
        writer.key("revoked")
        if let revoked = token.revoked { writer.value(isoTime(revoked)) } else { writer.null() }
        if let secret { writer.field("token", secret) }
        writer.endObject()
    }

    static func isoTime(_ seconds: Int64) -> String {
        Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
    }
}

import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StoreContract

/// `/v3/users` (admins): the organization's users and their roles — listed (never a password's
/// hash), added, given another role or password, removed. An organization always keeps an admin.
/// Every change makes this node forget the credentials it remembered at once; the other nodes on
/// the store see the credentials version move.
extension Handlers {
    /// `GET /v3/users` → `{"users":[{"login","role"}]}`, by login.
    @Sendable func listUsers(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("users")
        writer.beginArray()
        for user in try await state.store.users(organizationID: organization.id) { Self.write(user, to: &writer) }
        writer.endArray()
        writer.endObject()
        return HTTPAnswer.json(.ok, writer.bytes)
    }

    /// `POST /v3/users` with `{"login","password","role"}` (role `reader`, `editor` or `admin`;
    /// `reader` when left out) → 201 with the user.
    @Sendable func addUser(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let fields = try Self.userRequest(try await jsonBody(request, limit: 4_096), allowed: ["login", "password", "role"])
        guard let login = fields.login, let password = fields.password else {
            throw InputError("Give the new user's login and password: {\"login\":\"jana\",\"password\":\"…\",\"role\":\"editor\"}.")
        }
        try await state.store.addUser(login: login, password: password, role: fields.role ?? .reader, organizationID: organization.id)
        let user = try await state.store.user(login: login.trimmingWhitespace())
        var writer = JSONWriter()
        if let user { Self.write(user, to: &writer) }
        var response = HTTPAnswer.json(.created, writer.bytes)
        response.headers[.location] = "/v3/users/" + (PercentEncoding.encoded(user?.login ?? login))
        return response
    }

    /// `PATCH /v3/users/{login}` with `{"role"}`, `{"password"}` or both → 200 with the user. A new
    /// password ends the user's admin-page sessions.
    @Sendable func updateUser(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let login = try userLogin(context)
        let fields = try Self.userRequest(try await jsonBody(request, limit: 4_096), allowed: ["role", "password"])
        guard fields.role != nil || fields.password != nil else { throw InputError("Give the user's new role, password, or both.") }
        let user = try await state.store.updateUser(login: login, organizationID: organization.id, role: fields.role, password: fields.password)
        state.credentialsChanged()
        var writer = JSONWriter()
        Self.write(user, to: &writer)
        return HTTPAnswer.json(.ok, writer.bytes)
    }

    /// `DELETE /v3/users/{login}` → 204.
    @Sendable func removeUser(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        try await state.store.removeUser(login: try userLogin(context), organizationID: organization.id)
        state.credentialsChanged()
        return Response(status: .noContent)
    }

    private func userLogin(_ context: CallerRequestContext) throws -> String {
        let raw = try context.parameters.require("login")
        return PercentEncoding.decoded(raw) ?? raw
    }

    struct UserFields {
        var login: String?
        var password: String?
        var role: UserRole?
    }

    /// The members of a user request; anything else in it is a 400 that says what.
    static func userRequest(_ bytes: [UInt8], allowed: Set<String>) throws -> UserFields {
        var scanner = JSONScanner(bytes)
        var fields = UserFields()
        var role: String?
        do throws(JSONScanner.Failure) {
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                guard allowed.contains(key) else {
                    throw JSONScanner.Failure(description: "unknown member '\(key.prefix(40))' (here: \(allowed.sorted().joined(separator: ", ")))")
                }
                switch key {
                case "login": fields.login = try scanner.string()
                case "password": fields.password = try scanner.string()
                default: role = try scanner.string()
                }
            }
            try ChangeFeedJSON.trailing(&scanner)
        } catch {
            throw InputError("The body is not a user request: \(error.description).")
        }
        if let role {
            guard let known = UserRole(rawValue: role) else {
                throw InputError("A user's role is reader, editor or admin; '\(role.prefix(40))' is not.")
            }
            fields.role = known
        }
        return fields
    }

    /// `{"login","role"}`.
    static func write(_ user: UserAccount, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("login", user.login)
        writer.field("role", user.role.rawValue)
        writer.endObject()
    }
}

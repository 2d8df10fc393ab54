import ArgumentParser
import Foundation
import StoreContract

/// `caller-lookup token create|list|revoke`: an organization's scoped access tokens, what PBX
/// configurations hold instead of a user's password.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage an organization's access tokens (for PBXs, desk phones, mirrors).",
        discussion: """
            Scopes: lookup (read-only: caller names, lookups, routes, the popup, phonebooks, the change \
            feed), write (also single-contact writes), admin (also uploads, labels and tokens). A token \
            goes in Authorization: Bearer TOKEN or in ?token=TOKEN.
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token; it is printed once, alone on the last line, and only its hash is kept.")

        @Option(help: "The organization the token belongs to.") var org: String
        @Option(help: "lookup, write or admin.") var scope: String
        @Option(help: "What the token is for, e.g. 'FreeSWITCH Brno'.") var label = ""
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                guard let scope = AccessScope(rawValue: scope.lowercased()) else {
                    throw Failure("--scope is lookup, write or admin (got '\(self.scope)').")
                }
                let label = self.label
                let (organization, token, secret) = try await options.withStore(organization: org) { store, organization in
                    let (token, secret) = try await store.createToken(organizationID: organization.id, scope: scope, label: label)
                    return (organization, token, secret)
                }
                print("created \(scope) token \(token.id) for '\(organization.name)'\(label.isEmpty ? "" : " (\(token.label))");")
                print("it is shown only now; keep it where the PBX configuration is:")
                print(secret)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organization's tokens (never their secrets).")

        @Option(help: "The organization.") var org: String
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                let (organization, tokens) = try await options.withStore(organization: org) { store, organization in
                    (organization, try await store.tokens(organizationID: organization.id))
                }
                if tokens.isEmpty { print("'\(organization.name)' has no tokens; create one with: caller-lookup token create --org '\(organization.name)' --scope lookup") }
                for token in tokens {
                    let state = token.revoked.map { "revoked \(time($0))" } ?? "active"
                    print("\(token.id)\t\(token.scope)\t\(token.prefix)…\tcreated \(time(token.created))\t\(state)\t\(token.label)")
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token: refused at once by the nodes on this store, by mirrors within auth.cacheseconds.")

        @Argument(help: "The token: its id or its first characters (as token list shows them), or the whole token.")
        var token: String
        @Option(help: "The organization.") var org: String
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                let token = self.token
                let (organization, revoked) = try await options.withStore(organization: org) { store, organization in
                    let id = try await Self.id(of: token, in: store, organization: organization)
                    return (organization, try await store.revokeToken(id: id, organizationID: organization.id))
                }
                print("revoked \(revoked.scope) token \(revoked.id) (\(revoked.prefix)…) of '\(organization.name)'")
            }
        }

        /// The id a token is named by: a number, the whole secret, or a prefix only one of the
        /// organization's tokens has.
        static func id(of text: String, in store: any RecordStore, organization: Organization) async throws -> Int64 {
            if let id = Int64(text) { return id }
            if AccessTokenRules.isTokenShaped(text) {
                guard let grant = try await store.authenticate(token: text), grant.organization.id == organization.id else {
                    throw Failure("That token is not an active token of '\(organization.name)' (already revoked, or another organization's).")
                }
                return grant.tokenID
            }
            let text = text.hasSuffix("…") ? String(text.dropLast()) : text
            let matches = try await store.tokens(organizationID: organization.id).filter { text.count >= 5 && $0.prefix.hasPrefix(text) }
            guard matches.count == 1, let match = matches.first else {
                throw Failure(matches.isEmpty
                    ? "No token of '\(organization.name)' starts with '\(text)'; see caller-lookup token list --org '\(organization.name)'."
                    : "Several tokens start with '\(text)': give its id (caller-lookup token list).")
            }
            return match.id
        }
    }
}

private func time(_ seconds: Int64) -> String {
    Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
}

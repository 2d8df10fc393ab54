import ArgumentParser
import ContactStore
import Foundation

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

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token; it is printed once, alone on the last line, and only its hash is kept.")

        @Option(help: "The organization the token belongs to.") var org: String
        @Option(help: "lookup, write or admin.") var scope: String
        @Option(help: "What the token is for, e.g. 'FreeSWITCH Brno'.") var label = ""
        @OptionGroup var options: DataOptions

        func run() throws {
            try handlingErrors {
                guard let scope = AccessScope(rawValue: scope.lowercased()) else {
                    throw Failure("--scope is lookup, write or admin (got '\(self.scope)').")
                }
                let (store, organization) = try options.open(organization: org)
                let (token, secret) = try store.createToken(organizationID: organization.id, scope: scope, label: label)
                print("created \(scope) token \(token.id) for '\(organization.name)'\(label.isEmpty ? "" : " (\(token.label))");")
                print("it is shown only now; keep it where the PBX configuration is:")
                print(secret)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organization's tokens (never their secrets).")

        @Option(help: "The organization.") var org: String
        @OptionGroup var options: DataOptions

        func run() throws {
            try handlingErrors {
                let (store, organization) = try options.open(organization: org)
                let tokens = try store.tokens(organizationID: organization.id)
                if tokens.isEmpty { print("'\(organization.name)' has no tokens; create one with: caller-lookup token create --org '\(organization.name)' --scope lookup") }
                for token in tokens {
                    let state = token.revoked.map { "revoked \(time($0))" } ?? "active"
                    print("\(token.id)\t\(token.scope)\t\(token.prefix)…\tcreated \(time(token.created))\t\(state)\t\(token.label)")
                }
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token: refused at once by the nodes on this store, by mirrors within auth.cacheseconds.")

        @Argument(help: "The token's id (token list).") var id: Int64
        @Option(help: "The organization.") var org: String
        @OptionGroup var options: DataOptions

        func run() throws {
            try handlingErrors {
                let (store, organization) = try options.open(organization: org)
                let token = try store.revokeToken(id: id, organizationID: organization.id)
                print("revoked \(token.scope) token \(token.id) (\(token.prefix)…) of '\(organization.name)'")
            }
        }
    }
}

private func time(_ seconds: Int64) -> String {
    Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
}

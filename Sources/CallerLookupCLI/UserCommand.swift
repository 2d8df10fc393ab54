import ArgumentParser
import Contacts
import Foundation
import Logging
import PhoneNumbers
import PostgresEngine
import StoreContract

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Add.self, List.self, Remove.self, Password.self, Role.self])

    /// The role `--role` names, in any letter case.
    static func role(_ text: String) throws -> UserRole {
        guard let role = UserRole(rawValue: text.lowercased()) else {
            throw Failure("--role is reader, editor or admin (got '\(text)').")
        }
        return role
    }

    /// The password of `login`, one line of standard input (a prompt without echo on a terminal).
    static func password(for login: String, command: String, org: String) throws -> String {
        guard let password = Terminal.readSecretLine(prompt: "Password for \(login): "), !password.isEmpty else {
            throw Failure("No password on standard input; give it as one line, e.g. printf '%s\\n' \"$PASSWORD\" | caller-lookup \(command) \(login) --org '\(org)'")
        }
        return password
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user; the password is read from one line of standard input.",
            discussion: "Roles: reader (lookups, popup, phonebooks, the contact pages), editor (also single-contact edits), admin (also uploads, labels, tokens and users).")

        @Argument var login: String
        @Option(help: "The organization the user belongs to.") var org: String
        @Option(help: "reader, editor or admin.") var role = "admin"
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                let role = try UserCommand.role(role)
                let password = try UserCommand.password(for: login, command: "user add", org: org)
                let login = self.login
                let organization = try await options.withStore(organization: org) { store, organization in
                    try await store.addUser(login: login, password: password, role: role, organizationID: organization.id)
                    return organization
                }
                print("created \(role) '\(login)' in '\(organization.name)'")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a user: their sessions and popup links end at once. Never the organization's last admin.")

        @Argument var login: String
        @Option(help: "The organization the user belongs to.") var org: String
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                let login = self.login
                let organization = try await options.withStore(organization: org) { store, organization in
                    try await store.removeUser(login: login, organizationID: organization.id)
                    return organization
                }
                print("removed '\(login)' from '\(organization.name)'")
            }
        }
    }

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's password, read from one line of standard input; the user's sessions end.",
            discussion: "Also the way back in for a sole admin who forgot their password: run it on the server with the store's --data or --store.")

        @Argument var login: String
        @Option(help: "The organization the user belongs to.") var org: String
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                let password = try UserCommand.password(for: login, command: "user password", org: org)
                let login = self.login
                let organization = try await options.withStore(organization: org) { store, organization in
                    _ = try await store.updateUser(login: login, organizationID: organization.id, role: nil, password: password)
                    return organization
                }
                print("password of '\(login)' in '\(organization.name)' changed; their sessions ended")
            }
        }
    }

    struct Role: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a user's role (reader, editor or admin). The last admin cannot be demoted.")

        @Argument var login: String
        @Option(help: "The organization the user belongs to.") var org: String
        @Option(help: "reader, editor or admin.") var role: String
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                let role = try UserCommand.role(role)
                let login = self.login
                let (organization, account) = try await options.withStore(organization: org) { store, organization in
                    (organization, try await store.updateUser(login: login, organizationID: organization.id, role: role, password: nil))
                }
                print("'\(account.login)' in '\(organization.name)' is now \(account.role)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organization's users and their roles.")

        @Option(help: "The organization.") var org: String
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                let users = try await options.withStore(organization: org) { store, organization in
                    try await store.users(organizationID: organization.id)
                }
                for user in users { print("\(user.login)\t\(user.role)") }
            }
        }
    }
}

import ArgumentParser
import Contacts
import Foundation
import Logging
import PhoneNumbers
import PostgresEngine
import StoreContract

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Add.self, List.self])

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
                guard let role = UserRole(rawValue: role.lowercased()) else {
                    throw Failure("--role is reader, editor or admin (got '\(self.role)').")
                }
                let password = Terminal.readSecretLine(prompt: "Password for \(login): ")
                guard let password, !password.isEmpty else {
                    throw Failure("No password on standard input; give it as one line, e.g. printf '%s\\n' \"$PASSWORD\" | caller-lookup user add \(login) --org '\(org)'")
                }
                let login = self.login
                let organization = try await options.withStore(organization: org) { store, organization in
                    try await store.addUser(login: login, password: password, role: role, organizationID: organization.id)
                    return organization
                }
                print("created \(role) '\(login)' in '\(organization.name)'")
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

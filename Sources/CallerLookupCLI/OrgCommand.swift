import SQLiteEngine
import ArgumentParser
import Contacts
import Foundation
import Logging
import PhoneNumbers
import PostgresEngine
import StoreContract

struct OrgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Manage organizations.",
        subcommands: [Create.self, Set.self, List.self, Labels.self, PopupLink.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an organization.")

        @Argument var name: String
        @Option(help: "Region for incoming numbers written without '+' (two letters).")
        var defaultRegion: String = "CZ"
        @Option(help: "How many trailing national digits the suffix match compares (4–15).")
        var suffixDigits: Int = 9
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                let organization: Organization
                switch try options.location() {
                case .sqlite:
                    organization = try options.openStore().createOrganization(
                        name: name, defaultRegion: defaultRegion, suffixDigits: suffixDigits)
                case .postgres(let url):
                    let (name, region, digits) = (name, defaultRegion, suffixDigits)
                    organization = try await options.withPostgres(url) {
                        try await $0.createOrganization(name: name, defaultRegion: region, suffixDigits: digits)
                    }
                }
                print("created organization '\(organization.name)' (default region \(organization.defaultRegion))")
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an organization's default region or suffix length; serving nodes rebuild its index.")

        @Argument var name: String
        @Option(help: "Region for incoming numbers written without '+' (two letters).") var defaultRegion: String?
        @Option(help: "How many trailing national digits the suffix match compares (4–15).") var suffixDigits: Int?
        @OptionGroup var options: DataOptions

        func validate() throws {
            guard defaultRegion != nil || suffixDigits != nil else {
                throw ValidationError("Give --default-region, --suffix-digits or both.")
            }
        }

        func run() async throws {
            try await handlingErrors {
                let (region, digits) = (defaultRegion, suffixDigits)
                let (before, after) = try await options.withStore(organization: name) { store, organization in
                    try await store.updateOrganization(id: organization.id, defaultRegion: region, suffixDigits: digits)
                }
                var changes: [String] = []
                if before.defaultRegion != after.defaultRegion { changes.append("default region \(before.defaultRegion) → \(after.defaultRegion)") }
                if before.suffixDigits != after.suffixDigits { changes.append("suffix digits \(before.suffixDigits) → \(after.suffixDigits)") }
                if changes.isEmpty {
                    print("organization '\(after.name)' unchanged (default region \(after.defaultRegion), suffix digits \(after.suffixDigits))")
                } else {
                    print("organization '\(after.name)': \(changes.joined(separator: ", ")); serving nodes rebuild its index")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List organizations.")

        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                let organizations: [Organization]
                switch try options.location() {
                case .sqlite: organizations = try options.openStore().organizations()
                case .postgres(let url): organizations = try await options.withPostgres(url) { try await $0.organizations() }
                }
                for organization in organizations {
                    print("\(organization.name)\tregion=\(organization.defaultRegion)\tversion=\(organization.version)")
                }
            }
        }
    }
}

extension OrgCommand {
    struct Labels: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Name an organization's fields (shown by the popup, returned by lookups as labels).",
            discussion: "Prints the labels as JSON. Example: org labels IPEX --set customField1=Důležitost --set customField2=Obchodník")

        @Argument var name: String
        @Option(name: .customLong("set"), help: "FIELD=LABEL (repeatable).") var assignments: [String] = []
        @Option(name: .customLong("clear"), help: "FIELD whose label goes (repeatable).") var cleared: [String] = []
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                var changes: [ContactField: String?] = [:]
                for assignment in assignments {
                    guard let equals = assignment.firstIndex(of: "="),
                        let field = ContactField(caseInsensitiveName: String(assignment[..<equals]))
                    else { throw Failure("--set takes FIELD=LABEL with a contact field, e.g. customField1=Důležitost (got '\(assignment)').") }
                    changes[field] = String(assignment[assignment.index(after: equals)...])
                }
                for name in cleared {
                    guard let field = ContactField(caseInsensitiveName: name) else { throw Failure("--clear takes a field name (got '\(name)').") }
                    changes[field] = .some(nil)
                }
                let organization = try await options.withStore(organization: name) { [changes] store, organization in
                    changes.isEmpty ? organization : try await store.setLabels(changes, organizationID: organization.id)
                }
                print(FieldLabels.encode(organization.labels))
            }
        }
    }

    struct PopupLink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "popup-link",
            abstract: "Print the organization's signed screen-pop link for softphones (no password in it).",
            discussion: "The PBX fills in the caller's number. --rotate revokes every earlier link.")

        @Argument var name: String
        @Option(help: "The service's public base URL.") var baseURL = "http://127.0.0.1:8080"
        @Flag(help: "Issue a new token; earlier links stop working.") var rotate = false
        @OptionGroup var options: DataOptions

        func run() async throws {
            try await handlingErrors {
                let rotate = self.rotate
                let token = try await options.withStore(organization: name) { store, organization in
                    rotate ? try await store.rotatePopupToken(organizationID: organization.id) : try await store.popupToken(organizationID: organization.id)
                }
                let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
                print(PopupTokenRules.standingPopupLink(token: token, base: base))
            }
        }
    }
}

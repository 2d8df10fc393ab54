import ArgumentParser
import Contacts
import Foundation
import PhoneNumbers
import StoreContract

/// `caller-lookup check-numbers --org NAME`: the stored numbers the number plan in use calls
/// invalid, with the reason. They stay stored and findable; after a new plan this says what changed.
struct CheckNumbersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-numbers",
        abstract: "List the stored numbers the number plan in use calls invalid (they stay stored and findable).",
        discussion: "Exit status 0 when every stored number is valid by the plan, 1 when some are not (listed), as CONTACT-ID<TAB>FIELD<TAB>NUMBER<TAB>REASON.")

    @Option(help: "The organization.") var org: String
    @OptionGroup var options: DataOptions
    @OptionGroup var plan: NumberPlanOptions

    func run() async throws {
        var invalid = 0
        try await handlingErrors {
            try plan.apply()
            let validator = PhoneNumberValidator()
            let contacts = try await options.withStore(organization: org) { store, organization in
                try await store.fullLoad(organizationID: organization.id).contacts
            }
            for stored in contacts {
                for field in [ContactField.phone1, .phone2] {
                    let number = stored.contact[field]
                    guard !number.isEmpty else { continue }
                    if case .invalid(let reason, _) = validator.validateInternational(number) {
                        invalid += 1
                        print("\(stored.id)\t\(field.rawValue)\t\(number)\t\(reason.rawValue)")
                    }
                }
            }
            let file = NumberPlanFile.current
            FileHandle.standardError.write(Data(
                "check-numbers: \(contacts.count) contacts, \(invalid) numbers invalid by libphonenumber \(file.version) (\(file.fingerprint))\n".utf8))
        }
        if invalid > 0 { throw ExitCode.failure }
    }
}

/// `caller-lookup number-plan export FILE`: writes the metadata compiled into the C++
/// libphonenumber this build links as a number plan file (the plan of the C++ differential);
/// `number-plan check FILE` reads and checks one.
struct NumberPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "number-plan", abstract: "Export the C++ library's metadata as a number plan file, or check a file.",
        subcommands: [Export.self, Check.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the C++ libphonenumber's compiled-in metadata as a number plan file.")
        @Argument(help: "The file to write.") var file: String

        func run() throws {
            try handlingErrors {
                let plan = NumberPlanFile.library
                try plan.text.write(toFile: file, atomically: true, encoding: .utf8)
                print("wrote libphonenumber \(plan.version)'s metadata to \(file) (\(plan.fingerprint))")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read and check a number plan file; print its version and fingerprint.")
        @Argument(help: "The file to check.") var file: String

        func run() throws {
            try handlingErrors {
                let plan = try NumberPlanFile.load(path: file)
                print("libphonenumber \(plan.version), fingerprint \(plan.fingerprint)")
            }
        }
    }
}

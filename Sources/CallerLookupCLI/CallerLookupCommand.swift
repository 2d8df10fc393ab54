import ArgumentParser
import ContactStore
import Contacts
import Foundation
import Logging
import PhoneNumbers
import PostgresStore

@main
struct CallerLookupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caller-lookup",
        abstract: "Who is calling? Contacts by CSV or REST, answered from an in-memory index.",
        subcommands: [
            OrgCommand.self, UserCommand.self, TokenCommand.self, MigrateCommand.self, ImportCommand.self, LookupCommand.self, ValidateCommand.self,
            GenerateCommand.self, BenchCommand.self, ServeCommand.self, MirrorCommand.self,
        ]
    )

    /// This build's version (see CHANGELOG.md).
    static let version = "0.9.0"

    @Flag(help: "Print the version and the libphonenumber it runs with.") var version = false

    /// Every file this program writes (the store, its WAL, a mirror's snapshot) is the owner's
    /// alone, whatever umask it was started with; the store checks its own files too.
    static func main() async {
        umask(0o077)
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    func run() async throws {
        guard version else {
            print(Self.helpMessage())
            return
        }
        print("caller-lookup \(Self.version)")
        print(PhoneNumberLibrary.description)
    }
}

/// `--data DIR` or `--store URL`, shared by every subcommand that opens the store.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Directory of the SQLite store (the same as --store sqlite:DIR).")
    var data: String = "./data"

    @Option(
        name: .long,
        help: """
            The store: sqlite:DIR, or postgres://user@host:port/database (the password from PGPASSWORD; \
            trust and peer authentication need none). Every command but lookup and bench works on both.
            """)
    var store: String?

    /// Where the store is.
    enum Location {
        case sqlite(directory: String)
        case postgres(url: String)
    }

    func location() throws -> Location { try Self.location(data: data, store: store) }

    static func location(data: String, store: String?) throws -> Location {
        guard let store else { return .sqlite(directory: data) }
        if store.hasPrefix("sqlite:") { return .sqlite(directory: String(store.dropFirst("sqlite:".count))) }
        if store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") { return .postgres(url: store) }
        throw Failure("--store is sqlite:DIR or postgres://user@host:port/database (got '\(Redaction.redacted(String(store.prefix(80))))').")
    }

    /// The SQLite store (the only engine of most commands, for now).
    func openStore() throws -> ContactStore {
        guard case .sqlite(let directory) = try location() else {
            throw Failure("This command works on a SQLite store only (lookup and bench build an index of their own); run it with --data DIR.")
        }
        do {
            return try ContactStore(directory: directory)
        } catch {
            throw Failure("Cannot open the store in '\(directory)': \(error)")
        }
    }

    /// Runs `body` with the PostgreSQL store at `url`, migrated, its connections open meanwhile.
    /// A server that cannot be reached within 10 seconds is an error (the pool would keep trying).
    func withPostgres<T: Sendable>(_ url: String, _ body: @escaping @Sendable (PostgresStore) async throws -> T) async throws -> T {
        var logger = Logger(label: "caller-lookup.postgres")
        logger.logLevel = .critical
        let store = try PostgresStore(url: url, logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await store.run()
                return nil
            }
            defer { group.cancelAll() }
            do {
                _ = try await Self.within(.seconds(10), "PostgreSQL at \(Redaction.redacted(url)) does not answer") { try await store.migrate() }
                return try await body(store)
            } catch let error as ContactStoreError {
                throw error
            } catch let error as ImportRejection {
                throw error
            } catch let error as Failure {
                throw error
            } catch {
                throw Failure("PostgreSQL at \(Redaction.redacted(url)): \(Redaction.redacted(PostgresStore.describe(error)))")
            }
        }
    }

    /// `work`, or the failure `message` once `limit` passed without its answer.
    static func within<T: Sendable>(_ limit: Duration, _ message: String, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else { throw Failure(message + " (waited \(limit)).") }
            return result
        }
    }

    /// The organization named `name` in the PostgreSQL store.
    static func organization(named name: String, in store: PostgresStore) async throws -> Organization {
        guard let organization = try await store.organization(named: name) else {
            throw Failure("No organization named '\(name)'. Create it with: caller-lookup org create '\(name)'")
        }
        return organization
    }

    /// Runs `body` with the store, whichever engine, and the organization named `name` in it.
    func withStore<T: Sendable>(
        organization name: String, _ body: @escaping @Sendable (any RecordStore, Organization) async throws -> T
    ) async throws -> T {
        switch try location() {
        case .sqlite:
            let (store, organization) = try open(organization: name)
            return try await body(SQLiteRecordStore(store), organization)
        case .postgres(let url):
            return try await withPostgres(url) { store in try await body(store, try await Self.organization(named: name, in: store)) }
        }
    }

    /// The store and the organization named `name` in it.
    func open(organization name: String) throws -> (ContactStore, Organization) {
        let store = try openStore()
        return (store, try organization(named: name, in: store))
    }

    func organization(named name: String, in store: ContactStore) throws -> Organization {
        guard let organization = try store.organization(named: name) else {
            throw Failure("No organization named '\(name)'. Create it with: caller-lookup org create '\(name)'")
        }
        return organization
    }
}

/// A handled error: its message goes to stderr and the exit status is 1, without a stack trace.
struct Failure: Error, CustomStringConvertible {
    let description: String

    init(_ message: String) { description = message }
}

/// `handlingErrors` for async work.
func handlingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}

/// Runs `body`, turning any error into a message on stderr and exit status 1.
func handlingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}

func printError(_ message: String) {
    // Whatever a message quotes (a store URL, an API URL, an error of a driver), no password.
    FileHandle.standardError.write(Data((Redaction.redacted(message) + "\n").utf8))
}

struct OrgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Manage organizations.",
        subcommands: [Create.self, List.self, Labels.self, PopupLink.self])

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
                print("\(base)/popup?token=\(token)&number={NUMBER}")
            }
        }
    }
}

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

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Replace an organization's contacts with a CSV file; prints the import report as JSON.")

    @Argument(help: "The CSV file (the import contract: docs/contract.md).") var file: String
    @Option(help: "The organization to import into.") var org: String
    @Flag(help: "Check the file and print what the import would do, changing nothing.") var dryRun = false
    @OptionGroup var options: DataOptions

    func run() async throws {
        try await handlingErrors {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw Failure("Cannot read '\(file)'.")
            }
            let progress = Terminal.isTerminal(FileHandle.standardError.fileDescriptor)
            if progress { Terminal.status("reading, checking and writing \(data.count) bytes…") }
            defer { if progress { Terminal.status("") } }
            do {
                let dryRun = self.dryRun
                var report = try await options.withStore(organization: org) { store, organization in
                    try await store.importContacts(csv: Array(data), organizationID: organization.id, validator: PhoneNumberValidator(), dryRun: dryRun)
                }
                report.dryRun = dryRun
                print(report.json)
            } catch let error as ImportRejection {
                print(error.json)
                throw Failure("The file was rejected: \(error.message)")
            }
        }
    }
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check phone numbers offline, one or a whole list.",
        discussion: """
            With --batch, reads lines TEXT<TAB>REGION from standard input (REGION may be empty: the \
            number must then be international, as in an import) and writes one JSON object per line, \
            in order: {"valid":…,"e164":…,"type":…,"region":…,"reason":…}.
            """)

    @Argument(help: "The number to check (omit with --batch).") var number: String?
    @Option(help: "Region for a number written without '+' (two letters).") var region: String?
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Check every line of standard input (TEXT<TAB>REGION) and print JSON lines.") var batch = false

    func validate() throws {
        if batch, number != nil { throw ValidationError("--batch reads the numbers from standard input; give no number.") }
        if !batch, number == nil { throw ValidationError("Give a number to check, or --batch.") }
    }

    func run() throws {
        let validator = PhoneNumberValidator()
        guard let number else {
            runBatch(validator)
            return
        }
        let verdict = validator.validate(number, defaultRegion: region)
        if json {
            print(PhoneNumberReport(verdict: verdict, validator: validator).json)
            return
        }
        switch verdict {
        case .valid(let valid):
            print("valid")
            print("e164:          \(valid.number.e164)")
            print("international: \(validator.format(valid.number, as: .international) ?? "")")
            print("national:      \(validator.format(valid.number, as: .national) ?? "")")
            print("region:        \(valid.region)")
            print("type:          \(valid.type.name)")
        case .invalid(let reason, _):
            print("invalid: \(reason.rawValue)")
            throw ExitCode.failure
        }
    }

    private func runBatch(_ validator: PhoneNumberValidator) {
        var output = ""
        output.reserveCapacity(1 << 16)
        while var line = readLine(strippingNewline: true) {
            if line.hasSuffix("\r") { line.removeLast() }
            let fields = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            let region = fields.count > 1 ? fields[1].trimmingCharacters(in: .whitespaces) : ""
            let verdict = region.isEmpty
                ? validator.validateInternational(fields[0]) : validator.validate(fields[0], defaultRegion: region)
            output += verdict.batchJSON
            output += "\n"
            if output.utf8.count >= 1 << 16 {
                FileHandle.standardOutput.write(Data(output.utf8))
                output.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Write a realistic CSV of synthetic contacts to standard output.")

    @Option(help: "How many contacts.") var rows: Int
    @Option(help: "Random seed: the same seed gives the same file.") var seed: UInt64 = 1

    func validate() throws {
        guard rows >= 0 else { throw ValidationError("--rows must be 0 or more.") }
    }

    func run() throws {
        var generator = ContactGenerator(seed: seed)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        generator.csv(rows: rows) { line in
            buffer.append(contentsOf: line.utf8)
            if buffer.count >= 1 << 20 {
                FileHandle.standardOutput.write(Data(buffer))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(Data(buffer))
    }
}

/// `caller-lookup migrate`: brings the store's schema to this build's version and says where it
/// is. Opening a store migrates it too; this runs it on its own (before starting new nodes on an
/// upgraded build) and fails on a store newer than this build.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the store's pending schema migrations and print its schema version.")

    @OptionGroup var options: DataOptions

    func run() async throws {
        try await handlingErrors {
            switch try options.location() {
            case .sqlite(let directory):
                let (version, known) = try options.openStore().schemaVersion()
                print("schema at version \(version) of \(known) in \(directory)")
            case .postgres(let url):
                let version = try await options.withPostgres(url) { try await $0.migrate() }
                print("schema at version \(version) of \(version) in \(Redaction.redacted(url))")
            }
        }
    }
}

import ArgumentParser
import Contacts
import Foundation
import Logging
import PhoneNumbers
import PostgresEngine
import StoreContract

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check phone numbers offline, one or a whole list.",
        discussion: """
            With --batch, reads lines TEXT<TAB>REGION from standard input (REGION may be empty: the \
            number must then be international, as in an import) and writes one JSON object per line, \
            in order: {"valid":…,"e164":…,"type":…,"region":…,"reason":…}, a valid number also with its "national" and "international" forms.
            """)

    @Argument(help: "The number to check (omit with --batch).") var number: String?
    @Option(help: "Region for a number written without '+' (two letters); without it the number must be international.") var region: String?
    @Flag(help: "Print JSON (the validator route's answer); the exit status is 1 for an invalid number.") var json = false
    @Flag(help: "Check every line of standard input (TEXT<TAB>REGION) and print JSON lines.") var batch = false
    @OptionGroup var plan: NumberPlanOptions

    func validate() throws {
        if batch, number != nil { throw ValidationError("--batch reads the numbers from standard input; give no number.") }
        if !batch, number == nil { throw ValidationError("Give a number to check, or --batch.") }
    }

    func run() throws {
        try handlingErrors { try plan.apply() }
        let validator = PhoneNumberValidator()
        guard let number else {
            runBatch(validator)
            return
        }
        // The validator route's rule and reasons; an invalid number exits 1, with --json too.
        let report = PhoneNumberReport(checking: number, region: region, validator: validator)
        if json {
            print(report.json)
            if report.verdict.validNumber == nil { throw ExitCode.failure }
            return
        }
        switch report.verdict {
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
            output += verdict.batchJSON(formattedBy: validator)
            output += "\n"
            if output.utf8.count >= 1 << 16 {
                FileHandle.standardOutput.write(Data(output.utf8))
                output.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}

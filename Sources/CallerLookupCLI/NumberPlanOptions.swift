import ArgumentParser
import Foundation
import PhoneNumbers

/// `--number-plan FILE`, on every command that validates or looks numbers up: the numbering
/// metadata the process runs with, chosen before the first number is judged. Without the flag:
/// `CALLER_LOOKUP_NUMBERPLAN_FILE`, then (for serve) the configuration's `numberplan.file`, then the
/// plan the repository ships (libphonenumber's current metadata).
struct NumberPlanOptions: ParsableArguments {
    @Option(name: .customLong("number-plan"), help: "A number plan file (numberplan.file); default the shipped one (see --version).")
    var numberPlan: String?

    /// Loads and uses the chosen plan; a file that cannot be read, does not parse or does not match
    /// its fingerprint stops the command with the reason.
    func apply(configured: String? = nil) throws {
        let environment = ProcessInfo.processInfo.environment["CALLER_LOOKUP_NUMBERPLAN_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        guard let path = numberPlan ?? environment ?? configured else { return }
        do {
            NumberPlanFile.use(try NumberPlanFile.load(path: path))
        } catch {
            throw Failure("\(error)")
        }
    }
}

import ArgumentParser
import Contacts
import LookupIndex
import PhoneNumbers
import SQLiteEngine
import StoreContract

struct LookupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup", abstract: "Look a caller's number up as the CTI popup would.")

    @Argument(help: "The caller's number as the PBX sends it (+420…, 00420…, 222333444, tel:…).") var number: String
    @Option(help: "The organization whose contacts to search.") var org: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: DataOptions
    @OptionGroup var plan: NumberPlanOptions

    func run() throws {
        try handlingErrors { try plan.apply() }
        try handlingErrors {
            let store = try options.openStore()
            let organization = try options.organization(named: org, in: store)
            // The same path as the service: the index is built from the store's contacts and
            // change log, and the answer comes from the index, never from SQL.
            let follower = try IndexFollower(
                source: StoreChangeSource(store: store, organizationID: organization.id),
                suffixDigits: organization.suffixDigits)
            guard let lookup = CallerLookup(region: organization.defaultRegion) else {
                throw Failure("The organization's region '\(organization.defaultRegion)' is unknown to libphonenumber.")
            }
            let result = lookup.lookUp(number, in: follower.index.snapshot)
            if json {
                print(result.json)
                return
            }
            let snapshot = result.snapshot
            let found = snapshot.refs(result.matches).map { snapshot.storedContact($0) }
            if found.isEmpty {
                print("\(number): unknown caller")
                return
            }
            let plural = found.count == 1 ? "" : "s"
            print("\(number) → \(result.normalized?.e164 ?? "?") (\(result.match.rawValue) match, \(found.count) contact\(plural))")
            for stored in found {
                print("")
                print("  \(stored.contact.displayName)  [id \(stored.id)]")
                for field in ContactField.allCases where !stored.contact[field].isEmpty {
                    print("    \(field.rawValue.padding(16)) \(stored.contact[field])")
                }
            }
        }
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

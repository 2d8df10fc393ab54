import ArgumentParser
import ContactStore
import Contacts
import PhoneNumbers

struct LookupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup", abstract: "Look a caller's number up as the CTI popup would.")

    @Argument(help: "The caller's number as the PBX sends it (+420…, 00420…, 222333444, tel:…).") var number: String
    @Option(help: "The organization whose contacts to search.") var org: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var options: DataOptions

    func run() throws {
        try handlingErrors {
            let store = try options.openStore()
            let organization = try options.organization(named: org, in: store)
            let caller = CallerNumber(number)
            let validator = PhoneNumberValidator()
            var match = "none"
            var normalized: PhoneNumber?
            var found: [StoredContact] = []
            for candidate in validator.candidates(for: caller, defaultRegion: organization.defaultRegion) {
                normalized = normalized ?? candidate
                found = try store.contacts(withNumber: candidate, organizationID: organization.id)
                if !found.isEmpty {
                    normalized = candidate
                    match = "exact"
                    break
                }
            }
            if found.isEmpty, let key = caller.suffixKey(organization.suffixDigits) {
                found = try store.allContacts(organizationID: organization.id).contacts.filter { stored in
                    stored.contact.phoneNumbers.contains {
                        CallerNumber.suffixKey(of: $0, count: organization.suffixDigits) == key
                    }
                }
                if !found.isEmpty { match = "suffix" }
            }
            if json {
                var writer = JSONWriter()
                writer.beginObject()
                writer.field("number", number)
                writer.key("normalized")
                if let normalized { writer.value(normalized.e164) } else { writer.null() }
                writer.field("match", match)
                writer.key("contacts")
                writer.beginArray()
                for stored in found { stored.contact.writeJSON(id: stored.id, version: stored.version, to: &writer) }
                writer.endArray()
                writer.endObject()
                print(writer.string)
            } else if found.isEmpty {
                print("\(number): unknown caller")
            } else {
                print("\(number) → \(normalized?.e164 ?? "?") (\(match) match, \(found.count) contact\(found.count == 1 ? "" : "s"))")
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
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

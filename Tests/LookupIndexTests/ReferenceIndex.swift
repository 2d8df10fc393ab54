import Contacts
@testable import LookupIndex
import PhoneNumbers

/// The naive index every property test compares against: a dictionary of contacts by id, searched
/// linearly.
struct ReferenceIndex {
    var contacts: [Int64: StoredContact] = [:]
    let suffixDigits: Int

    mutating func apply(_ change: ContactChange) {
        switch change {
        case .upsert(let stored): contacts[stored.id] = stored
        case .delete(let id, _): contacts[id] = nil
        }
    }

    func ids(withNumber number: PhoneNumber) -> [Int64] {
        contacts.values.filter { $0.contact.phoneNumbers.contains(number) }.map(\.id).sorted()
    }

    func ids(withSuffixKey key: UInt64) -> [Int64] {
        contacts.values.filter { stored in
            stored.contact.phoneNumbers.contains { CallerNumber.suffixKey(of: $0, count: suffixDigits) == key }
        }.map(\.id).sorted()
    }

    func ids(withEmail email: String) -> [Int64] {
        contacts.values.filter { !$0.contact[.email].isEmpty && $0.contact[.email].lowercased() == email.lowercased() }
            .map(\.id).sorted()
    }
}

/// Random contacts over a deliberately small number space, so numbers, suffixes and emails collide.
struct RandomContacts {
    var random: SeededRandom
    var nextID: Int64 = 1

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func number() -> PhoneNumber {
        // +420 6xx xxx xxx and +421 9xx with few distinct tails: shared numbers and shared suffixes.
        let tail = UInt64(random.next() % 300)
        let country: UInt64 = random.next() % 3 == 0 ? 421_900_000_000 : 420_600_000_000
        return PhoneNumber(rawValue: country + tail * 1_003)!
    }

    mutating func contact(id: Int64, version: Int64) -> StoredContact {
        var values = [String](repeating: "", count: ContactField.allCases.count)
        values[ContactField.lastName.index] = ["Novák", "Dvořák", "O\"Brien", "Král\\", "<b>x</b>"][Int(random.next() % 5)]
        if random.next() % 2 == 0 { values[ContactField.firstName.index] = "Jan \(random.next() % 50)" }
        values[ContactField.phone1.index] = number().e164
        if random.next() % 2 == 0 { values[ContactField.phone2.index] = number().e164 }
        if random.next() % 3 != 0 { values[ContactField.email.index] = ["jan@novak.cz", "JAN@Novak.cz", "eva@x.cz", "Žofie@kůň.cz", "žofie@KŮŇ.cz"][Int(random.next() % 5)] }
        if random.next() % 2 == 0 { values[ContactField.customField1.index] = "VIP\n\t\u{1}" }
        values[ContactField.organizationUri.index] = "https://crm.example.cz/\(id)"
        return StoredContact(id: id, version: version, contact: Contact(trustedValues: values)!)
    }

    mutating func fresh(version: Int64) -> StoredContact {
        defer { nextID += 1 }
        return contact(id: nextID, version: version)
    }
}

extension IndexSnapshot {
    func ids(_ matches: Matches) -> [Int64] { refs(matches).map { id(of: $0) } }
}

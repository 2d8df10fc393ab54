import Contacts
import LookupIndex
import Synchronization

/// The names of an organization's contacts, folded (case, accents, width) once per index version,
/// so that a phone's directory browsing (`cn=Nov*`, `sn=novák`) compares short strings instead of
/// decoding every contact on every keystroke.
struct NameIndex: Sendable {
    enum Column: Sendable {
        case display, last, first
    }

    let version: Int64
    /// Every contact, in id order.
    let refs: [ContactRef]
    private let display: [String]
    private let last: [String]
    private let first: [String]

    init(_ snapshot: IndexSnapshot) {
        var refs: [ContactRef] = []
        var display: [String] = []
        var last: [String] = []
        var first: [String] = []
        for stored in snapshot.allContacts() {
            guard let ref = snapshot.ref(ofID: stored.id) else { continue }
            refs.append(ref)
            let name = FilterEvaluator.folded(stored.contact.displayName)
            display.append(name)
            last.append(stored.contact[.lastName].isEmpty ? name : FilterEvaluator.folded(stored.contact[.lastName]))
            first.append(FilterEvaluator.folded(stored.contact[.firstName]))
        }
        (self.version, self.refs, self.display, self.last, self.first) = (snapshot.version, refs, display, last, first)
    }

    /// The column of a name attribute (`cn`, `displayName`, `sn`, `givenName` and their aliases).
    static func column(_ attribute: String) -> Column? {
        switch attribute.lowercased() {
        case "cn", "commonname", "displayname": .display
        case "sn", "surname": .last
        case "givenname", "gn": .first
        default: nil
        }
    }

    /// The contacts whose folded name in `column` satisfies `test`, in id order.
    func refs(_ column: Column, where test: (String) -> Bool) -> [ContactRef] {
        let names = switch column {
        case .display: display
        case .last: last
        case .first: first
        }
        return names.indices.filter { test(names[$0]) }.map { refs[$0] }
    }
}

/// Each organization's `NameIndex`, rebuilt when its index version moved.
final class NameIndexes: Sendable {
    private let indexes = Mutex<[Int64: NameIndex]>([:])

    func index(organizationID: Int64, snapshot: IndexSnapshot) -> NameIndex {
        if let cached = indexes.withLock({ $0[organizationID] }), cached.version == snapshot.version { return cached }
        let built = NameIndex(snapshot)
        indexes.withLock { $0[organizationID] = built }
        return built
    }
}

import Contacts
import Foundation
import LDAPProtocol
import LookupIndex
import PhoneNumbers

/// Evaluates a search filter over one organization's snapshot. An assertion on a phone attribute
/// is answered by the caller lookup (every form of a number is the same number); names match
/// case- and accent-insensitively, as a phone's directory browsing expects.
struct FilterEvaluator {
    let lookup: CallerLookup
    let snapshot: IndexSnapshot
    let validator: PhoneNumberValidator
    /// The folded names, asked for only by a filter on names.
    let nameIndex: () -> NameIndex
    /// Asked text → the contacts the lookup finds for it, once per search.
    private var found: [String: Set<ContactRef>] = [:]
    private var names: NameIndex?

    init(lookup: CallerLookup, snapshot: IndexSnapshot, validator: PhoneNumberValidator, names: @escaping () -> NameIndex) {
        (self.lookup, self.snapshot, self.validator, self.nameIndex) = (lookup, snapshot, validator, names)
    }

    /// The contacts whose folded name in `column` satisfies `test`.
    private mutating func refs(_ column: NameIndex.Column, where test: (String) -> Bool) -> Set<ContactRef> {
        if names == nil { names = nameIndex() }
        return Set(names!.refs(column, where: test))
    }

    /// The contacts the lookup finds for `text`, as a phone would send it.
    private mutating func refs(forNumber text: String) -> Set<ContactRef> {
        if let cached = found[text] { return cached }
        let refs = text.unicodeScalars.count <= 64 ? Set(snapshot.refs(lookup.lookUp(text, in: snapshot).matches)) : []
        found[text] = refs
        return refs
    }

    /// The contacts that can match `filter`, from the index, or `nil` when only a scan can say
    /// (a filter on names alone).
    mutating func candidates(_ filter: LDAPFilter) -> [ContactRef]? {
        guard let set = candidateSet(filter) else { return nil }
        return set.sorted { snapshot.id(of: $0) < snapshot.id(of: $1) }
    }

    private mutating func candidateSet(_ filter: LDAPFilter) -> Set<ContactRef>? {
        switch filter {
        case .equality(let name, let value), .approximate(let name, let value):
            if Self.isPhone(name) { return refs(forNumber: value) }
            guard let column = NameIndex.column(name) else { return nil }
            let wanted = Self.folded(value)
            return refs(column) { $0 == wanted }
        case .substrings(let name, nil, let any, let final?) where any.isEmpty && Self.isPhone(name):
            return refs(forNumber: final)
        case .substrings(let name, let initial, let any, let final):
            guard let column = NameIndex.column(name) else { return nil }
            let (head, middle, tail) = (initial.map(Self.folded), any.map(Self.folded), final.map(Self.folded))
            return refs(column) { Self.substringsMatch($0, initial: head, any: middle, final: tail) }
        case .and(let parts):
            var best: Set<ContactRef>?
            for part in parts {
                if let set = candidateSet(part), set.count < best?.count ?? .max { best = set }
            }
            return best
        case .or(let parts):
            var union: Set<ContactRef> = []
            for part in parts {
                guard let set = candidateSet(part) else { return nil }
                union.formUnion(set)
            }
            return union
        default:
            return nil
        }
    }

    /// The texts of phone equality assertions that found `ref`: returned among its numbers as
    /// asked (3CX and Linphone compare them byte for byte).
    func askedNumbers(matching ref: ContactRef) -> [String] {
        found.filter { $0.value.contains(ref) }.map(\.key).sorted()
    }

    /// The values of an entry given as a list, by lower-cased attribute name.
    static func values(of attributes: [(String, [String])]) -> (String) -> [String] {
        { name in attributes.first { $0.0.lowercased() == name }?.1 ?? [] }
    }

    /// Whether the entry whose attributes `values` gives (by lower-cased name; for a contact, with
    /// its `ref`) matches `filter`.
    mutating func matches(_ filter: LDAPFilter, ref: ContactRef?, values entry: (String) -> [String]) -> Bool {
        switch filter {
        case .and(let parts):
            for part in parts where !matches(part, ref: ref, values: entry) { return false }
            return true
        case .or(let parts):
            for part in parts where matches(part, ref: ref, values: entry) { return true }
            return false
        case .not(let inner):
            return !matches(inner, ref: ref, values: entry)
        case .equality(let name, let value), .approximate(let name, let value):
            if Self.isPhone(name) { return ref.map { refs(forNumber: value).contains($0) } ?? false }
            let wanted = Self.folded(value)
            return Self.values(name, entry).contains { Self.folded($0) == wanted }
        case .substrings(let name, let initial, let any, let final):
            if Self.isPhone(name) {
                if initial == nil, any.isEmpty, let final, let ref, refs(forNumber: final).contains(ref) { return true }
                let pieces = (initial.map { [Self.digits($0)] } ?? []) + any.map(Self.digits) + (final.map { [Self.digits($0)] } ?? [])
                guard pieces.contains(where: { !$0.isEmpty }) else { return false }
                return Self.values(name, entry).contains {
                    Self.substringsMatch(Self.digits($0), initial: initial.map(Self.digits), any: any.map(Self.digits), final: final.map(Self.digits))
                }
            }
            return Self.values(name, entry).contains {
                Self.substringsMatch(Self.folded($0), initial: initial.map(Self.folded), any: any.map(Self.folded), final: final.map(Self.folded))
            }
        case .greaterOrEqual(let name, let value):
            let bound = Self.folded(value)
            return Self.values(name, entry).contains { Self.folded($0) >= bound }
        case .lessOrEqual(let name, let value):
            let bound = Self.folded(value)
            return Self.values(name, entry).contains { Self.folded($0) <= bound }
        case .present(let name):
            return Self.isPhone(name) ? !Self.values("telephoneNumber", entry).isEmpty : !Self.values(name, entry).isEmpty
        case .extensible:
            return false
        }
    }

    static func isPhone(_ attribute: String) -> Bool {
        LDAPDirectory.phoneAttributes.contains(attribute.lowercased())
    }

    /// Other names phones use for the same attributes.
    private static let aliases: [String: String] = [
        "commonname": "cn", "surname": "sn", "gn": "givenname", "email": "mail", "organizationname": "o",
        "objectclass": "objectclass",
    ]

    private static func values(_ name: String, _ entry: (String) -> [String]) -> [String] {
        let lowered = name.lowercased()
        let wanted = aliases[lowered] ?? lowered
        // Any phone attribute asks for the contact's numbers.
        return entry(isPhone(wanted) ? "telephonenumber" : wanted)
    }

    static func folded(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
    }

    static func digits(_ text: String) -> String {
        String(text.unicodeScalars.filter { ("0"..."9").contains($0) }.map(Character.init))
    }

    static func substringsMatch(_ value: String, initial: String?, any: [String], final: String?) -> Bool {
        var rest = Substring(value)
        if let initial {
            guard rest.hasPrefix(initial) else { return false }
            rest = rest.dropFirst(initial.count)
        }
        for piece in any where !piece.isEmpty {
            guard let range = rest.range(of: piece) else { return false }
            rest = rest[range.upperBound...]
        }
        if let final { return rest.hasSuffix(final) }
        return true
    }
}

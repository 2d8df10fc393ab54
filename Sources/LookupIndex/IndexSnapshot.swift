public import Atomics
public import Contacts
import HashTreeCollections
public import PhoneNumbers

/// A contact inside a snapshot: in the frozen base (by ordinal) or in the overlay of recent changes
/// (by id).
public enum ContactRef: Hashable, Sendable {
    case base(UInt32)
    case overlay(Int64)
}

/// The contacts a lookup found, in ascending id order. Without recent changes this is a value of
/// two words that points into the snapshot's tables: no allocation on the hot path.
public struct Matches: Sendable, Equatable {
    enum Storage: Sendable, Equatable {
        case none
        case one(UInt32)
        case run(start: Int, count: Int, table: TableKind)
        case list([ContactRef])
    }

    enum TableKind: Sendable, Equatable { case exact, suffix, email }

    let storage: Storage

    public var count: Int {
        switch storage {
        case .none: 0
        case .one: 1
        case .run(_, let count, _): count
        case .list(let refs): refs.count
        }
    }

    public var isEmpty: Bool { count == 0 }

    static let none = Matches(storage: .none)
}

/// One organization's contacts as an immutable, lock-free-readable lookup index.
///
/// Built once by `IndexBuilder`, then changed only by `applying(_:version:)`, which returns a new
/// snapshot sharing the base with this one. Readers hold a snapshot for the length of a lookup and
/// never see a half-applied change; `OrganizationIndex` swaps snapshots atomically.
///
/// - Memory: the UTF-8 bytes of the values, about 20 bytes of framing per contact (phones as 8-byte
///   integers, version, presence bits, lengths), 12 bytes per contact for start offset and id,
///   15 bytes per number in the exact table, and 10 per number (and per email) in the key-less
///   suffix and email tables. `byteSize`
///   reports it exactly for the base arrays and by estimate for the overlay.
/// - Performance: an exact lookup is one hash and a probe or two in the `NumberTable` (keys stored);
///   with an overlay, it also consults the overlay's trie and returns a merged list.
public final class IndexSnapshot: Sendable {
    /// The change-log version this snapshot reflects.
    public let version: Int64
    /// How many trailing digits the suffix table is keyed by.
    public let suffixDigits: Int
    let base: BaseIndex
    let overlay: Overlay
    /// Cached `overlay.isEmpty`: the hot path's only question about the overlay.
    let overlayIsEmpty: Bool
    /// The organization's names for fields as of `version` (lookups and the popup show them):
    /// they travel through the change feed with the contacts, so an answer's labels and contacts
    /// come from one version, on API nodes and mirrors alike.
    public let labels: [ContactField: String]

    init(version: Int64, suffixDigits: Int, base: BaseIndex, overlay: Overlay, labels: [ContactField: String] = [:]) {
        self.version = version
        self.suffixDigits = suffixDigits
        self.base = base
        self.overlay = overlay
        self.overlayIsEmpty = overlay.isEmpty
        self.labels = labels
    }

    /// The same snapshot with other labels (sharing everything else).
    public func withLabels(_ labels: [ContactField: String]) -> IndexSnapshot {
        IndexSnapshot(version: version, suffixDigits: suffixDigits, base: base, overlay: overlay, labels: labels)
    }

    /// An empty index.
    public static func empty(suffixDigits: Int = 9) -> IndexSnapshot {
        IndexBuilder(suffixDigits: suffixDigits).build(version: 0)
    }

    /// How many contacts the snapshot holds.
    public var count: Int { base.count - overlay.removed.count + overlay.entries.count }

    /// Bytes held by the snapshot: base arrays exactly (capacities), overlay by estimate.
    public var byteSize: Int { base.byteSize + overlay.byteSize }

    /// How many changes sit in the overlay; `OrganizationIndex` compacts past a threshold.
    public var overlaySize: Int { overlay.size }

    // MARK: Lookups

    /// Contacts that have `number` as `phone1` or `phone2`.
    public func contacts(withNumber number: PhoneNumber) -> Matches {
        if overlayIsEmpty { return base.exactMatches(number.rawValue) }
        return lookup(.exact, key: number.rawValue) { $0.hasNumber(number.rawValue) }
    }

    /// Contacts with a number whose last `suffixDigits` digits give `key` (`CallerNumber.suffixKey`).
    public func contacts(withSuffixKey key: UInt64) -> Matches {
        let digits = suffixDigits
        return lookup(.suffix, key: key) { record in
            CallerNumber.suffixKey(ofRaw: record.phone1, count: digits) == key
                || (record.phone2 != 0 && CallerNumber.suffixKey(ofRaw: record.phone2, count: digits) == key)
        }
    }

    /// Contacts whose email is `email`, ignoring case.
    public func contacts(withEmail email: String) -> Matches {
        let normalized = EmailKey.normalized(email)
        guard !normalized.isEmpty else { return .none }
        return lookup(.email, key: EmailKey.hash(normalized)) { record in
            EmailKey.normalized(record.field(.email)) == normalized
        }
    }

    func lookup(_ kind: Matches.TableKind, key: UInt64, matches: (RecordView) -> Bool) -> Matches {
        let found: RefTable<MixHashing>.Found
        if kind == .exact {
            found = base.exact.find(key)
        } else {
            let table = kind == .suffix ? base.suffix : base.email
            found = base.arena.withUnsafeBytes { arena in
                base.starts.withUnsafeBufferPointer { starts in
                    table.find(key) { ordinal in matches(RecordView(bytes: arena, start: Int(starts[Int(ordinal)]))) }
                }
            }
        }
        if overlayIsEmpty {
            switch found {
            case .none: return .none
            case .one(let ordinal): return Matches(storage: .one(ordinal))
            case .run(let start, let count): return Matches(storage: .run(start: start, count: count, table: kind))
            }
        }
        var refs: [(Int64, ContactRef)] = []
        let baseOrdinals: [UInt32] =
            switch found {
            case .none: []
            case .one(let ordinal): [ordinal]
            case .run(let start, let count): base.ordinals(kind, start: start, count: count)
            }
        for ordinal in baseOrdinals where !overlay.removed.contains(ordinal) {
            refs.append((base.ids[Int(ordinal)], .base(ordinal)))
        }
        let overlayTable =
            switch kind {
            case .exact: overlay.exact
            case .suffix: overlay.suffix
            case .email: overlay.email
            }
        for id in overlayTable[key] ?? [] {
            guard let entry = overlay.entries[id] else { continue }
            let confirmed = entry.record.withUnsafeBytes { matches(RecordView(bytes: $0, start: 0)) }
            if confirmed { refs.append((id, .overlay(id))) }
        }
        if refs.isEmpty { return .none }
        refs.sort { $0.0 < $1.0 }
        return Matches(storage: .list(refs.map(\.1)))
    }

    /// The contacts of `matches` in order.
    public func refs(_ matches: Matches) -> [ContactRef] {
        switch matches.storage {
        case .none: []
        case .one(let ordinal): [.base(ordinal)]
        case .run(let start, let count, let kind):
            base.ordinals(kind, start: start, count: count).map { ContactRef.base($0) }
        case .list(let refs): refs
        }
    }

    /// The first contact of `matches` (the lowest id), without listing the others.
    public func first(_ matches: Matches) -> ContactRef? {
        switch matches.storage {
        case .none: nil
        case .one(let ordinal): .base(ordinal)
        case .run(let start, _, let kind):
            switch kind {
            case .exact: .base(base.exact.runs[start])
            case .suffix: .base(base.suffix.runs[start])
            case .email: .base(base.email.runs[start])
            }
        case .list(let refs): refs.first
        }
    }

    /// The contact behind `ref` with only `fields` (and the phones) read from its record, the
    /// others empty: for answers that show a few fields.
    public func contact(_ ref: ContactRef, fields: [ContactField]) -> Contact {
        var wanted: UInt32 = 0
        for field in fields { wanted |= 1 << UInt32(field.index) }
        return withRecord(ref) { record in
            var values = [String](repeating: "", count: ContactRecord.fieldCount)
            _ = record.decode { index, value in
                if wanted & (1 << UInt32(index)) != 0 { values[index] = String(decoding: value, as: UTF8.self) }
            }
            // The phones always (a contact has its phone1): small strings, no allocation.
            values[ContactField.phone1.index] = PhoneNumber(rawValue: record.phone1)?.e164 ?? ""
            values[ContactField.phone2.index] = PhoneNumber(rawValue: record.phone2)?.e164 ?? ""
            return Contact(trustedValues: values)!
        }
    }

    /// Calls `body` with the record of `ref`.
    func withRecord<R>(_ ref: ContactRef, _ body: (RecordView) -> R) -> R {
        switch ref {
        case .base(let ordinal):
            return base.withRecord(ordinal, body)
        case .overlay(let id):
            return overlay.entries[id]!.record.withUnsafeBytes { body(RecordView(bytes: $0, start: 0)) }
        }
    }

    /// The id of `ref`.
    public func id(of ref: ContactRef) -> Int64 {
        switch ref {
        case .base(let ordinal): base.ids[Int(ordinal)]
        case .overlay(let id): id
        }
    }

    /// The stored contact behind `ref` (decodes; not for the hot path).
    public func storedContact(_ ref: ContactRef) -> StoredContact {
        let (contact, version) = withRecord(ref) { $0.contact() }
        return StoredContact(id: id(of: ref), version: version, contact: contact)
    }

    /// Every contact, ascending by id.
    public func allContacts() -> [StoredContact] {
        var result: [StoredContact] = []
        result.reserveCapacity(count)
        for ordinal in 0..<UInt32(base.count) where !overlay.removed.contains(ordinal) {
            result.append(storedContact(.base(ordinal)))
        }
        for (id, _) in overlay.entries { result.append(storedContact(.overlay(id))) }
        result.sort { $0.id < $1.id }
        return result
    }

    /// The ref of the contact with `id`, if the snapshot holds it.
    public func ref(ofID id: Int64) -> ContactRef? {
        if overlay.entries[id] != nil { return .overlay(id) }
        guard let ordinal = base.ordinal(of: id), !overlay.removed.contains(ordinal) else { return nil }
        return .base(ordinal)
    }
}

extension IndexSnapshot: AtomicReference {}

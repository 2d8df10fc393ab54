import Atomics
import Contacts
import HashTreeCollections
import PhoneNumbers

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

/// The frozen bulk of an organization's index: contacts in ascending id order.
///
/// Memory layout: one byte arena of `ContactRecord`s, a `UInt32` start per contact, the ids
/// (`Int64`, ascending, so an id finds its ordinal by binary search), and three `RefTable`s —
/// E.164 number, suffix key, email hash — that store no keys. See `IndexSnapshot` for the cost.
final class BaseIndex: Sendable {
    let arena: [UInt8]
    let starts: [UInt32]
    let ids: [Int64]
    let exact: NumberTable
    let suffix: RefTable<MixHashing>
    let email: RefTable<MixHashing>

    init(arena: [UInt8], starts: [UInt32], ids: [Int64], exact: NumberTable,
         suffix: RefTable<MixHashing>, email: RefTable<MixHashing>) {
        self.arena = arena
        self.starts = starts
        self.ids = ids
        self.exact = exact
        self.suffix = suffix
        self.email = email
    }

    var count: Int { ids.count }

    @inline(__always)
    func withRecord<R>(_ ordinal: UInt32, _ body: (RecordView) -> R) -> R {
        arena.withUnsafeBytes { body(RecordView(bytes: $0, start: Int(starts[Int(ordinal)]))) }
    }

    /// The ordinals of a run in the table of `kind`.
    func ordinals(_ kind: Matches.TableKind, start: Int, count: Int) -> ArraySlice<UInt32> {
        switch kind {
        case .exact: exact.ordinals(start: start, count: count)
        case .suffix: suffix.ordinals(start: start, count: count)
        case .email: email.ordinals(start: start, count: count)
        }
    }

    func ordinal(of id: Int64) -> UInt32? {
        var low = 0
        var high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low < ids.count && ids[low] == id ? UInt32(low) : nil
    }

    /// The exact-number lookup: the hot path of every call, answered from the table alone.
    @inline(__always)
    func exactMatches(_ key: UInt64) -> Matches {
        switch exact.find(key) {
        case .none: .none
        case .one(let ordinal): Matches(storage: .one(ordinal))
        case .run(let start, let count): Matches(storage: .run(start: start, count: count, table: .exact))
        }
    }

    var byteSize: Int {
        arena.capacity + starts.capacity * 4 + ids.capacity * 8 + exact.byteSize + suffix.byteSize + email.byteSize
    }
}

/// Recent changes on top of a `BaseIndex`, kept in persistent hash tries so that a new snapshot
/// shares all but the changed paths with the previous one: applying a change costs O(log n) of
/// the overlay, never a copy of it.
struct Overlay: Sendable {
    struct Entry: Sendable {
        let record: [UInt8]
        let numbers: [UInt64]
        let suffixKeys: [UInt64]
        let emailKey: UInt64?
    }

    var entries: TreeDictionary<Int64, Entry> = [:]
    var exact: TreeDictionary<UInt64, [Int64]> = [:]
    var suffix: TreeDictionary<UInt64, [Int64]> = [:]
    var email: TreeDictionary<UInt64, [Int64]> = [:]
    /// Base ordinals that were deleted or replaced by an overlay entry.
    var removed: TreeSet<UInt32> = []

    var isEmpty: Bool { entries.isEmpty && removed.isEmpty }

    /// How many changes the overlay holds; the follower compacts when this grows.
    var size: Int { entries.count + removed.count }

    var byteSize: Int {
        // Entries: record bytes plus key arrays; each trie node is estimated at 48 bytes per item.
        var bytes = 0
        for (_, entry) in entries {
            bytes += entry.record.capacity + (entry.numbers.capacity + entry.suffixKeys.capacity) * 8 + 80
        }
        bytes += (exact.count + suffix.count + email.count) * 64 + removed.count * 16
        return bytes
    }
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
            case .run(let start, let count): Array(base.ordinals(kind, start: start, count: count))
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

/// The current snapshot of one organization, swapped atomically: readers load it without a lock.
public final class OrganizationIndex: Sendable {
    private let current: ManagedAtomic<IndexSnapshot>

    public init(_ snapshot: IndexSnapshot) {
        current = ManagedAtomic(snapshot)
    }

    /// The snapshot to answer a lookup from; hold it for the whole lookup.
    public var snapshot: IndexSnapshot { current.load(ordering: .acquiring) }

    /// Makes `snapshot` the current one.
    public func publish(_ snapshot: IndexSnapshot) {
        current.store(snapshot, ordering: .releasing)
    }
}

/// Email keys: ASCII-lower-cased (or Unicode-lower-cased when not ASCII) bytes and their FNV-1a hash.
enum EmailKey {
    static func normalized(_ email: String) -> [UInt8] {
        var email = email
        return email.withUTF8 { normalized(UnsafeRawBufferPointer($0)) }
    }

    static func normalized(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            return bytes.map { ($0 >= 65 && $0 <= 90) ? $0 | 0x20 : $0 }
        }
        return Array(String(decoding: bytes, as: UTF8.self).lowercased().utf8)
    }

    /// The hash of `normalized(bytes)` without building it, for ASCII addresses (nearly all).
    static func hash(of bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            guard byte < 0x80 else { return self.hash(normalized(bytes)) }
            hash ^= UInt64((byte >= 65 && byte <= 90) ? byte | 0x20 : byte)
            hash &*= 0x100_0000_01B3
        }
        return hash
    }

    static func hash(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01B3
        }
        return hash
    }
}

extension CallerNumber {
    /// The suffix key of E.164 digits given as an integer; `nil` for 0 or too few digits.
    @inline(__always)
    static func suffixKey(ofRaw raw: UInt64, count: Int) -> UInt64? {
        guard let number = PhoneNumber(rawValue: raw) else { return nil }
        return suffixKey(of: number, count: count)
    }
}

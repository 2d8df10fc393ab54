import Atomics
import Contacts
import HashTreeCollections
import PhoneNumbers

/// The frozen bulk of an organization's index: contacts in ascending id order.
///
/// Memory layout: one byte arena of `ContactRecord`s, a `UInt32` start per contact, the ids
/// (`Int64`, ascending, so an id finds its ordinal by binary search), and three `RefTable`s —
/// E.164 number, suffix key, email hash — that store no keys. See `IndexSnapshot` for the cost.
final class BaseIndex: Sendable {
    let arena: Slab<UInt8>
    let starts: Slab<UInt32>
    let ids: Slab<Int64>
    let exact: NumberTable
    let suffix: RefTable<MixHashing>
    let email: RefTable<MixHashing>

    init(arena: Slab<UInt8>, starts: Slab<UInt32>, ids: Slab<Int64>, exact: NumberTable,
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
    func ordinals(_ kind: Matches.TableKind, start: Int, count: Int) -> [UInt32] {
        switch kind {
        case .exact: exact.ordinals(start: start, count: count)
        case .suffix: suffix.ordinals(start: start, count: count)
        case .email: email.ordinals(start: start, count: count)
        }
    }

    func ordinal(of id: Int64) -> UInt32? {
        ids.withUnsafeBufferPointer { ids in
            var low = 0
            var high = ids.count
            while low < high {
                let middle = (low + high) / 2
                if ids[middle] < id { low = middle + 1 } else { high = middle }
            }
            return low < ids.count && ids[low] == id ? UInt32(low) : nil
        }
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
        arena.byteCount + starts.byteCount + ids.byteCount + exact.byteSize + suffix.byteSize + email.byteSize
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

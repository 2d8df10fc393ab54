public import Contacts
import Dispatch
import HashTreeCollections
import PhoneNumbers

/// Builds an `IndexSnapshot` from contacts given in ascending id order.
///
/// Records are appended to one arena as they come; the three tables are filled in one pass at
/// `build`, sized for the exact number of keys. No sorting: ordinals are ascending by construction,
/// and a key shared by several contacts is confirmed against the first contact's record.
public struct IndexBuilder {
    public let suffixDigits: Int
    private var arena: [UInt8] = []
    private var starts: [UInt32] = []
    private var ids: [Int64] = []

    /// `arenaBytes`, when known, reserves the arena exactly (else about 150 bytes a contact).
    public init(suffixDigits: Int = 9, expectedCount: Int = 0, arenaBytes: Int? = nil) {
        self.suffixDigits = suffixDigits
        arena.reserveCapacity(arenaBytes ?? expectedCount * 150)
        starts.reserveCapacity(expectedCount)
        ids.reserveCapacity(expectedCount)
    }

    init(suffixDigits: Int, arena: [UInt8], starts: [UInt32], ids: [Int64]) {
        self.suffixDigits = suffixDigits
        self.arena = arena
        self.starts = starts
        self.ids = ids
    }

    /// Adds a contact; ids must ascend.
    public mutating func add(_ stored: StoredContact) {
        precondition(ids.last.map { $0 < stored.id } ?? true, "contacts must be added in ascending id order")
        starts.append(UInt32(arena.count))
        ids.append(stored.id)
        ContactRecord.encode(stored.contact, version: stored.version, into: &arena)
    }

    /// Adds an already encoded record (compaction copies records without decoding them).
    mutating func add(id: Int64, record: UnsafeRawBufferPointer) {
        precondition(ids.last.map { $0 < id } ?? true, "contacts must be added in ascending id order")
        starts.append(UInt32(arena.count))
        ids.append(id)
        arena.append(contentsOf: record)
    }

    public func build(version: Int64) -> IndexSnapshot {
        // Sized to fit: a snapshot lives long, and its byte size should be its data. The arena is
        // copied only when its reservation was off by more than 1 %.
        let arena = self.arena.capacity - self.arena.count > self.arena.count / 100 ? self.arena.exactCopy() : self.arena
        let starts = self.starts.exactCopy()
        let ids = self.ids.exactCopy()
        let digits = suffixDigits
        var numberCount = 0
        var emailCount = 0
        arena.withUnsafeBytes { bytes in
            for start in starts {
                let record = RecordView(bytes: bytes, start: Int(start))
                numberCount += record.phone2 != 0 && record.phone2 != record.phone1 ? 2 : 1
                if record.hasEmail { emailCount += 1 }
            }
        }
        // The exact table on one core, the suffix and email tables on the other.
        let (numbers, emails) = (numberCount, emailCount)
        let tables = TablesUnderConstruction()
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            if part == 0 {
                tables.exact = Self.exactTable(arena: arena, starts: starts, keyCount: numbers)
                tables.email = Self.emailTable(arena: arena, starts: starts, keyCount: emails)
            } else {
                tables.suffix = Self.suffixTable(arena: arena, starts: starts, digits: digits, keyCount: numbers)
            }
        }
        let base = BaseIndex(arena: Slab(arena), starts: Slab(starts), ids: Slab(ids), exact: tables.exact!,
                             suffix: tables.suffix!, email: tables.email!)
        return IndexSnapshot(version: version, suffixDigits: suffixDigits, base: base, overlay: Overlay())
    }

    private static func exactTable(arena: [UInt8], starts: [UInt32], keyCount: Int) -> NumberTable {
        var exact = NumberTable.Builder(capacityFor: keyCount)
        arena.withUnsafeBytes { bytes in
            for (ordinal, start) in starts.enumerated() {
                let view = RecordView(bytes: bytes, start: Int(start))
                exact.insert(view.phone1, ordinal: UInt32(ordinal))
                if view.phone2 != 0, view.phone2 != view.phone1 { exact.insert(view.phone2, ordinal: UInt32(ordinal)) }
            }
        }
        return exact.frozen()
    }

    private static func suffixTable(arena: [UInt8], starts: [UInt32], digits: Int, keyCount: Int) -> RefTable<MixHashing> {
        var suffix = RefTable<MixHashing>.Builder(capacityFor: keyCount)
        arena.withUnsafeBytes { bytes in
            starts.withUnsafeBufferPointer { starts in
                func record(_ ordinal: UInt32) -> RecordView { RecordView(bytes: bytes, start: Int(starts[Int(ordinal)])) }
                for ordinal in 0..<UInt32(starts.count) {
                    let view = record(ordinal)
                    func insert(_ key: UInt64) {
                        suffix.insert(key, ordinal: ordinal) { candidate in
                            let other = record(candidate)
                            return CallerNumber.suffixKey(ofRaw: other.phone1, count: digits) == key
                                || CallerNumber.suffixKey(ofRaw: other.phone2, count: digits) == key
                        }
                    }
                    let first = CallerNumber.suffixKey(ofRaw: view.phone1, count: digits)
                    let second = view.phone2 == 0 ? nil : CallerNumber.suffixKey(ofRaw: view.phone2, count: digits)
                    if let first { insert(first) }
                    if let second, second != first { insert(second) }
                }
            }
        }
        return suffix.frozen()
    }

    private static func emailTable(arena: [UInt8], starts: [UInt32], keyCount: Int) -> RefTable<MixHashing> {
        var email = RefTable<MixHashing>.Builder(capacityFor: keyCount)
        arena.withUnsafeBytes { bytes in
            starts.withUnsafeBufferPointer { starts in
                func record(_ ordinal: UInt32) -> RecordView { RecordView(bytes: bytes, start: Int(starts[Int(ordinal)])) }
                for ordinal in 0..<UInt32(starts.count) {
                    let view = record(ordinal)
                    guard view.hasEmail else { continue }
                    let address = view.field(.email)
                    email.insert(EmailKey.hash(of: address), ordinal: ordinal) {
                        EmailKey.normalized(record($0).field(.email)) == EmailKey.normalized(address)
                    }
                }
            }
        }
        return email.frozen()
    }
}

/// The tables two threads fill during `build`; each field is written by one thread, read after
/// `concurrentPerform` returns.
private final class TablesUnderConstruction: @unchecked Sendable {
    var exact: NumberTable?
    var suffix: RefTable<MixHashing>?
    var email: RefTable<MixHashing>?
}

extension IndexSnapshot {
    /// Builds a snapshot of `contacts` (any order).
    ///
    /// Every record's size is known before any is written, so the arena is allocated once, exactly,
    /// and the two halves of the contacts are encoded on both cores straight into their places.
    public static func build(_ contacts: [StoredContact], version: Int64, suffixDigits: Int = 9) -> IndexSnapshot {
        let ascending = zip(contacts, contacts.dropFirst()).allSatisfy { $0.id < $1.id }
        let sorted = ascending ? contacts : contacts.sorted { $0.id < $1.id }
        var starts = [UInt32](repeating: 0, count: sorted.count)
        var total = 0
        for (ordinal, stored) in sorted.enumerated() {
            starts[ordinal] = UInt32(total)
            total += ContactRecord.encodedSize(stored.contact, version: stored.version)
        }
        precondition(total <= Int(UInt32.max), "an organization's index is limited to 4 GiB of contact data")
        let offsets = starts
        let arena = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            let bytes = UnsafeMutableRawBufferPointer(buffer)
            HugePages.advise(bytes)
            let base = UnsafeSendablePointer(bytes.baseAddress)
            let half = sorted.count / 2
            DispatchQueue.concurrentPerform(iterations: 2) { part in
                guard let destination = base.pointer else { return }
                for ordinal in (part == 0 ? 0..<half : half..<sorted.count) {
                    let stored = sorted[ordinal]
                    _ = ContactRecord.encode(stored.contact, version: stored.version,
                                             at: destination + Int(offsets[ordinal]))
                }
            }
            initialized = total
        }
        let builder = IndexBuilder(suffixDigits: suffixDigits, arena: arena, starts: starts, ids: sorted.map(\.id))
        return builder.build(version: version)
    }

    /// A new snapshot with `changes` applied, at `version`. Shares the base with this one; costs
    /// O(changes × log(overlay)), independent of the organization's size.
    public func applying(_ changes: [ContactChange], version: Int64) -> IndexSnapshot {
        var overlay = self.overlay
        for change in changes {
            switch change {
            case .upsert(let stored):
                remove(stored.id, from: &overlay)
                add(stored, to: &overlay)
            case .delete(let id, _):
                remove(id, from: &overlay)
            }
        }
        return IndexSnapshot(version: version, suffixDigits: suffixDigits, base: base, overlay: overlay, labels: labels)
    }

    private func remove(_ id: Int64, from overlay: inout Overlay) {
        if let ordinal = base.ordinal(of: id) { overlay.removed.insert(ordinal) }
        guard let entry = overlay.entries.removeValue(forKey: id) else { return }
        for number in entry.numbers { Self.removeID(id, key: number, from: &overlay.exact) }
        for key in entry.suffixKeys { Self.removeID(id, key: key, from: &overlay.suffix) }
        if let key = entry.emailKey { Self.removeID(id, key: key, from: &overlay.email) }
    }

    private func add(_ stored: StoredContact, to overlay: inout Overlay) {
        var record: [UInt8] = []
        ContactRecord.encode(stored.contact, version: stored.version, into: &record)
        let numbers = stored.contact.phoneNumbers.map(\.rawValue)
        var suffixKeys: [UInt64] = []
        for number in numbers {
            if let key = CallerNumber.suffixKey(ofRaw: number, count: suffixDigits), !suffixKeys.contains(key) {
                suffixKeys.append(key)
            }
        }
        let email = stored.contact[.email]
        let emailKey = email.isEmpty ? nil : EmailKey.hash(EmailKey.normalized(email))
        overlay.entries[stored.id] = Overlay.Entry(record: record, numbers: numbers, suffixKeys: suffixKeys, emailKey: emailKey)
        for number in numbers { overlay.exact[number, default: []].append(stored.id) }
        for key in suffixKeys { overlay.suffix[key, default: []].append(stored.id) }
        if let emailKey { overlay.email[emailKey, default: []].append(stored.id) }
    }

    private static func removeID(_ id: Int64, key: UInt64, from table: inout TreeDictionary<UInt64, [Int64]>) {
        guard var ids = table[key] else { return }
        ids.removeAll { $0 == id }
        table[key] = ids.isEmpty ? nil : ids
    }

    /// The same contacts with the overlay merged into a new base (records are copied, not decoded).
    public func compacted() -> IndexSnapshot {
        var builder = IndexBuilder(suffixDigits: suffixDigits, expectedCount: count)
        var overlayIDs = Array(overlay.entries.keys).sorted()[...]
        base.arena.withUnsafeBytes { bytes in
            func flushOverlay(before id: Int64?) {
                while let next = overlayIDs.first, id == nil || next < id! {
                    overlayIDs.removeFirst()
                    overlay.entries[next]!.record.withUnsafeBytes { builder.add(id: next, record: $0) }
                }
            }
            for ordinal in 0..<base.count where !overlay.removed.contains(UInt32(ordinal)) {
                let id = base.ids[ordinal]
                flushOverlay(before: id)
                let view = RecordView(bytes: bytes, start: Int(base.starts[ordinal]))
                builder.add(id: id, record: UnsafeRawBufferPointer(rebasing: bytes[view.start..<(view.start + view.length)]))
            }
            flushOverlay(before: nil)
        }
        return builder.build(version: version).withLabels(labels)
    }
}


extension Array where Element: BitwiseCopyable {
    /// A copy whose capacity is its count (`Array(slice)` may keep the original's buffer).
    func exactCopy() -> [Element] {
        [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            _ = withUnsafeBufferPointer { buffer.initialize(fromContentsOf: $0) }
            initialized = count
        }
    }
}

/// A raw pointer handed to the two encoding threads, which write disjoint ranges.
private struct UnsafeSendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer?

    init(_ pointer: UnsafeMutableRawPointer?) { self.pointer = pointer }
}

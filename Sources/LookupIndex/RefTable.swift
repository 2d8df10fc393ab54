/// How a `RefTable` spreads keys; a protocol so tests can force collisions.
public protocol KeyHashing {
    static func hash(_ key: UInt64) -> UInt64
}

/// The default: MurmurHash3's 64-bit finalizer, a full avalanche of the key's bits.
public enum MixHashing: KeyHashing {
    @inline(__always)
    public static func hash(_ key: UInt64) -> UInt64 {
        var x = key
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return x
    }
}

/// An open-addressing table from a 64-bit key to a run of contact ordinals, that does not store
/// its keys: a slot is one `UInt64` holding a 32-bit fingerprint (high half) and a 32-bit reference
/// (low half), and a candidate is confirmed by the caller's `matches` closure against the contact
/// itself (whose record holds the numbers).
///
/// Memory: 8 bytes per slot at a load of at most 0.8 (10 bytes per key), plus 4 bytes per ordinal
/// for keys shared by several contacts. Lookup: one multiply-shift to the slot, linear probing in
/// one array (a miss usually costs one cache line); a miss stops at the first empty slot.
///
/// Reference encoding: 0 is an empty slot; `r < 0x8000_0000` is the single ordinal `r - 1`;
/// otherwise `runs[r & 0x7FFF_FFFF]` is a count followed by that many ordinals, ascending.
public struct RefTable<Hashing: KeyHashing>: Sendable {
    /// Fingerprint << 32 | reference; 0 is empty.
    let slots: Slab<UInt64>
    let runs: Slab<UInt32>

    /// The result of a lookup: nothing, one ordinal, or a run inside `runs`.
    public enum Found: Equatable, Sendable {
        case none
        case one(UInt32)
        case run(start: Int, count: Int)
    }

    init(slots: Slab<UInt64>, runs: Slab<UInt32>) {
        self.slots = slots
        self.runs = runs
    }

    @inline(__always)
    static func start(_ hash: UInt64, capacity: Int) -> Int {
        Int(truncatingIfNeeded: hash.multipliedFullWidth(by: UInt64(capacity)).high)
    }

    /// The fingerprint, already shifted into the slot's high half.
    @inline(__always)
    static func fingerprint(_ hash: UInt64) -> UInt64 { hash << 32 }

    /// The ordinals stored for `key`; `matches(ordinal)` confirms that a contact has the key.
    public func find(_ key: UInt64, matches: (UInt32) -> Bool) -> Found {
        let hash = Hashing.hash(key)
        let fingerprint = Self.fingerprint(hash)
        let capacity = slots.count
        var slot = Self.start(hash, capacity: capacity)
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let entry = slots[slot]
                if entry == 0 { return .none }
                if entry & 0xFFFF_FFFF_0000_0000 == fingerprint {
                    let reference = UInt32(truncatingIfNeeded: entry)
                    if reference < 0x8000_0000 {
                        if matches(reference - 1) { return .one(reference - 1) }
                    } else {
                        let run = Int(reference & 0x7FFF_FFFF)
                        if matches(runs[run + 1]) { return .run(start: run + 1, count: Int(runs[run])) }
                    }
                }
                slot += 1
                if slot == capacity { slot = 0 }
            }
        }
    }

    /// The ordinals of a run found by `find`.
    public func ordinals(start: Int, count: Int) -> [UInt32] { runs.copy(start: start, count: count) }

    /// Bytes held by the table.
    public var byteSize: Int { slots.byteCount + runs.byteCount }

    /// Fills a table; `frozen()` hands it to an index.
    public struct Builder {
        var slots: [UInt64]
        var runs: [UInt32] = []

        /// A table sized for `keyCount` keys.
        public init(capacityFor keyCount: Int) {
            slots = [UInt64](repeating: 0, count: max(8, keyCount * 5 / 4 + 1))
        }

        /// Adds `ordinal` under `key`. Ordinals of one key must arrive in ascending order; a key
        /// shared by several contacts grows a run (moved to the end of `runs` when it grows).
        public mutating func insert(_ key: UInt64, ordinal: UInt32, matches: (UInt32) -> Bool) {
            let hash = Hashing.hash(key)
            let fingerprint = RefTable.fingerprint(hash)
            var slot = RefTable.start(hash, capacity: slots.count)
            while true {
                let entry = slots[slot]
                let reference = UInt32(truncatingIfNeeded: entry)
                if entry == 0 {
                    slots[slot] = fingerprint | UInt64(ordinal + 1)
                    return
                }
                if entry & 0xFFFF_FFFF_0000_0000 == fingerprint {
                    let first = reference < 0x8000_0000 ? reference - 1 : runs[Int(reference & 0x7FFF_FFFF) + 1]
                    if matches(first) {
                        if let updated = OrdinalRuns.adding(ordinal, to: reference, runs: &runs) {
                            slots[slot] = fingerprint | UInt64(updated)
                        }
                        return
                    }
                }
                slot += 1
                if slot == slots.count { slot = 0 }
            }
        }

        /// The finished table (the runs sized to fit).
        public func frozen() -> RefTable {
            RefTable(slots: Slab(slots), runs: Slab(runs.exactCopy()))
        }
    }
}

/// Runs of ordinals shared by both table kinds: a key held by several contacts points at
/// `runs[r]` = count, followed by that many ordinals, ascending.
enum OrdinalRuns {
    /// The reference after adding `ordinal` to the key whose reference is `reference`; `nil` when
    /// the ordinal is already there. A run that is not at the end of `runs` moves to the end.
    static func adding(_ ordinal: UInt32, to reference: UInt32, runs: inout [UInt32]) -> UInt32? {
        if reference < 0x8000_0000 {
            if reference - 1 == ordinal { return nil }
            defer { runs += [2, reference - 1, ordinal] }
            return 0x8000_0000 | UInt32(runs.count)
        }
        let run = Int(reference & 0x7FFF_FFFF)
        let count = Int(runs[run])
        if runs[run + count] == ordinal { return nil }
        if run + 1 + count == runs.count {
            runs[run] += 1
            runs.append(ordinal)
            return reference
        }
        let moved = Array(runs[(run + 1)...(run + count)])
        let newReference = 0x8000_0000 | UInt32(runs.count)
        runs.append(UInt32(count + 1))
        runs += moved
        runs.append(ordinal)
        return newReference
    }
}

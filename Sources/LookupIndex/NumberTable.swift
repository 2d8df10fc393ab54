/// The exact-number table: open addressing that stores its keys, so a lookup answers from the table
/// alone — one cache line for a hit or a miss, no trip to the contact's record.
///
/// A slot is 12 packed bytes: the E.164 number as `UInt64` (0 = empty; E.164 is never 0) and a
/// `UInt32` reference encoded as in `RefTable` (single ordinal + 1, or a run in `runs`).
///
/// Memory: 12 bytes per slot at a load of at most 0.8 — 15 bytes per number. Lookup: one hash, one
/// multiply-shift, linear probing over contiguous slots.
public struct NumberTable: Sendable {
    static let slotSize = 12
    let storage: Slab<UInt8>
    let runs: Slab<UInt32>

    init(storage: Slab<UInt8>, runs: Slab<UInt32>) {
        precondition(storage.count % Self.slotSize == 0 && storage.count > 0, "a number table has whole slots")
        self.storage = storage
        self.runs = runs
    }

    var capacity: Int { storage.count / Self.slotSize }

    @inline(__always)
    public func find(_ key: UInt64) -> RefTable<MixHashing>.Found {
        let hash = MixHashing.hash(key)
        let capacity = self.capacity
        var slot = Int(truncatingIfNeeded: hash.multipliedFullWidth(by: UInt64(capacity)).high)
        return storage.withUnsafeBytes { bytes in
            while true {
                let offset = slot &* Self.slotSize
                let stored = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                if stored == key {
                    let reference = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
                    if reference < 0x8000_0000 { return .one(reference - 1) }
                    let run = Int(reference & 0x7FFF_FFFF)
                    return .run(start: run + 1, count: Int(runs[run]))
                }
                if stored == 0 { return .none }
                slot += 1
                if slot == capacity { slot = 0 }
            }
        }
    }

    public func ordinals(start: Int, count: Int) -> [UInt32] { runs.copy(start: start, count: count) }

    public var byteSize: Int { storage.byteCount + runs.byteCount }

    /// Fills a table; `frozen()` hands it to an index.
    public struct Builder {
        var storage: [UInt8]
        let capacity: Int
        var runs: [UInt32] = []

        public init(capacityFor keyCount: Int) {
            capacity = max(8, keyCount * 5 / 4 + 1)
            storage = .zeroedForHugePages(count: capacity * NumberTable.slotSize)
        }

        /// Adds `ordinal` under `key` (ordinals of one key in ascending order).
        public mutating func insert(_ key: UInt64, ordinal: UInt32) {
            precondition(key != 0, "0 is not an E.164 number")
            let hash = MixHashing.hash(key)
            var slot = Int(truncatingIfNeeded: hash.multipliedFullWidth(by: UInt64(capacity)).high)
            let capacity = self.capacity
            storage.withUnsafeMutableBytes { bytes in
                while true {
                    let offset = slot * NumberTable.slotSize
                    let stored = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                    if stored == 0 {
                        bytes.storeBytes(of: key, toByteOffset: offset, as: UInt64.self)
                        bytes.storeBytes(of: ordinal + 1, toByteOffset: offset + 8, as: UInt32.self)
                        return
                    }
                    if stored == key {
                        let reference = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
                        if let updated = OrdinalRuns.adding(ordinal, to: reference, runs: &runs) {
                            bytes.storeBytes(of: updated, toByteOffset: offset + 8, as: UInt32.self)
                        }
                        return
                    }
                    slot += 1
                    if slot == capacity { slot = 0 }
                }
            }
        }

        /// The finished table (the runs sized to fit).
        public func frozen() -> NumberTable {
            NumberTable(storage: Slab(storage), runs: Slab(runs.exactCopy()))
        }
    }
}

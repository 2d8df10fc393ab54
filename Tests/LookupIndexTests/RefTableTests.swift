import Contacts
@testable import LookupIndex
import Testing

/// Every key lands on the same slot with the same fingerprint: only confirmation tells keys apart.
enum CollidingHashing: KeyHashing {
    static func hash(_ key: UInt64) -> UInt64 { 0x1234 }
}

/// Two fingerprints only.
enum FewBucketsHashing: KeyHashing {
    static func hash(_ key: UInt64) -> UInt64 { (key % 2) &* 0x9E37_79B9_7F4A_7C15 }
}

@Suite struct RefTableTests {
    func check<H: KeyHashing>(_ hashing: H.Type, seed: UInt64) {
        var random = SeededRandom(seed: seed)
        // ordinal → key; several ordinals share keys.
        let keys = (0..<400).map { _ in UInt64(random.next() % 150) + 1 }
        var builder = RefTable<H>.Builder(capacityFor: keys.count)
        for (ordinal, key) in keys.enumerated() {
            builder.insert(key, ordinal: UInt32(ordinal)) { keys[Int($0)] == key }
        }
        let table = builder.frozen()
        for key in UInt64(0)...160 {
            let expected = keys.indices.filter { keys[$0] == key }.map(UInt32.init)
            let found: [UInt32] =
                switch table.find(key, matches: { keys[Int($0)] == key }) {
                case .none: []
                case .one(let ordinal): [ordinal]
                case .run(let start, let count): Array(table.ordinals(start: start, count: count))
                }
            #expect(found == expected, "key \(key)")
        }
    }

    @Test func forcedCollisions() {
        check(CollidingHashing.self, seed: 1)
        check(FewBucketsHashing.self, seed: 2)
    }

    @Test func realHashing() {
        check(MixHashing.self, seed: 3)
    }
}

@Suite struct NumberTableTests {
    @Test func sharedAndDistinctKeysAgainstTheReference() {
        var random = SeededRandom(seed: 11)
        let keys = (0..<3_000).map { _ in 420_600_000_000 + random.next() % 900 }
        var builder = NumberTable.Builder(capacityFor: keys.count)
        for (ordinal, key) in keys.enumerated() { builder.insert(key, ordinal: UInt32(ordinal)) }
        let table = builder.frozen()
        for key in UInt64(420_600_000_000)...420_600_000_950 {
            let expected = keys.indices.filter { keys[$0] == key }.map(UInt32.init)
            let found: [UInt32] =
                switch table.find(key) {
                case .none: []
                case .one(let ordinal): [ordinal]
                case .run(let start, let count): Array(table.ordinals(start: start, count: count))
                }
            #expect(found == expected, "key \(key)")
        }
        #expect(table.byteSize >= 3_000 * 12)
    }
}

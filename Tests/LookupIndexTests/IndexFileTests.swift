import Contacts
import Foundation
@testable import LookupIndex
import PhoneNumbers
import TestSupport
import Testing

/// The index file: what is written is read back equal (base, overlay, labels, attachment), used in
/// place from the mapping, and a damaged, truncated, foreign or stale file is refused by name.
@Suite struct IndexFileTests {
    let directory = TemporaryDirectory()
    var path: String { directory.path + "/1.index" }

    /// A snapshot of `count` random contacts with a few hundred changes on top (an overlay with
    /// upserts, replacements and deletes), and the reference it must agree with.
    func changedSnapshot(seed: UInt64, count: Int) -> (IndexSnapshot, ReferenceIndex) {
        var random = RandomContacts(seed: seed)
        var reference = ReferenceIndex(suffixDigits: 9)
        let contacts = (0..<count).map { _ in random.fresh(version: 1) }
        for stored in contacts { reference.apply(.upsert(stored)) }
        var snapshot = IndexSnapshot.build(contacts, version: 1).withLabels([.customField1: "Důležitost", .agent1: "Linka"])
        for step in 2...40 {
            var changes: [ContactChange] = []
            let existing = reference.contacts.keys.sorted()
            switch step % 3 {
            case 0: changes.append(.delete(id: existing[Int(random.random.next() % UInt64(existing.count))], version: Int64(step)))
            case 1: changes.append(.upsert(random.contact(id: existing[Int(random.random.next() % UInt64(existing.count))], version: Int64(step))))
            default: changes.append(.upsert(random.fresh(version: Int64(step))))
            }
            for change in changes { reference.apply(change) }
            snapshot = snapshot.applying(changes, version: Int64(step))
        }
        return (snapshot, reference)
    }

    @Test(arguments: [0, 1, 2_000] as [Int])
    func whatIsWrittenIsReadBackEqualAndUsedInPlace(count: Int) throws {
        let (snapshot, reference) = count == 0 ? (IndexSnapshot.empty(), ReferenceIndex(suffixDigits: 9))
            : count == 1 ? { () -> (IndexSnapshot, ReferenceIndex) in
                var random = RandomContacts(seed: 9)
                let stored = random.fresh(version: 1)
                var reference = ReferenceIndex(suffixDigits: 9)
                reference.apply(.upsert(stored))
                return (IndexSnapshot.build([stored], version: 1), reference)
            }()
            : changedSnapshot(seed: 4, count: count)
        try IndexFile.write(snapshot, organizationID: 7, planFingerprint: "fnv1a64:0123456789abcdef", attachment: [1, 2, 3], to: path)
        let contents = try IndexFile.read(from: path)
        #expect(contents.organizationID == 7)
        #expect(contents.planFingerprint == "fnv1a64:0123456789abcdef")
        #expect(contents.attachment == [1, 2, 3])
        let read = contents.snapshot
        #expect(read.version == snapshot.version)
        #expect(read.labels == snapshot.labels)
        #expect(read.overlaySize == snapshot.overlaySize)
        #expect(read.base.arena.isMapped && read.base.exact.storage.isMapped && read.base.suffix.slots.isMapped, "used in place")
        IndexSnapshotTests().expectAgreement(read, reference, probes: RandomContacts(seed: 77))
        // The mapping outlives the file's name: a node keeps answering while the next one replaces it.
        try FileManager.default.removeItem(atPath: path)
        IndexSnapshotTests().expectAgreement(read, reference, probes: RandomContacts(seed: 78))
        // A compaction of what was read is a heap index again, equal too.
        IndexSnapshotTests().expectAgreement(read.compacted(), reference, probes: RandomContacts(seed: 79))
    }

    @Test func theFileIsTheOwnersAloneAndAWriteReplacesItWhole() throws {
        let (snapshot, _) = changedSnapshot(seed: 5, count: 300)
        let umask = umask(0)
        defer { _ = Foundation.umask(umask) }
        try IndexFile.write(snapshot, organizationID: 1, planFingerprint: "p", to: path)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let first = try IndexFile.read(from: path)
        try IndexFile.write(snapshot.compacted(), organizationID: 1, planFingerprint: "p", to: path)
        #expect(try IndexFile.read(from: path).snapshot.overlaySize == 0)
        #expect(first.snapshot.overlaySize > 0, "the earlier mapping is untouched by the rename")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["1.index"], "no temporary file left")
    }

    @Test func aDamagedFileIsRefusedWhereverTheDamageIs() throws {
        let (snapshot, _) = changedSnapshot(seed: 6, count: 500)
        try IndexFile.write(snapshot, organizationID: 1, planFingerprint: "p", attachment: Array("mirror".utf8), to: path)
        let good = try #require(FileManager.default.contents(atPath: path))
        // One flipped bit anywhere: the head, the table, every section.
        var offsets = [0, 9, 20, 40, 130, 200]
        offsets += stride(from: 256, to: good.count, by: max(1, good.count / 40)).map { $0 }
        offsets.append(good.count - 1)
        for offset in offsets {
            var damaged = good
            damaged[offset] ^= 0x10
            try damaged.write(to: URL(fileURLWithPath: path))
            #expect(throws: IndexFileError.self, "a flipped bit at \(offset)") { try IndexFile.read(from: path) }
        }
        for length in [0, 7, 127, 128, good.count / 2, good.count - 1] {
            try good.prefix(length).write(to: URL(fileURLWithPath: path))
            let error = try #require(throws: IndexFileError.self) { try IndexFile.read(from: path) }
            #expect(!error.missing)
            #expect(error.description.contains("damaged") || error.description.contains("not an index file"), "\(error)")
        }
        try Data("CLMIRROR2\n and more bytes than a head holds, far more than that, yes, many more".utf8 + Array(repeating: 0, count: 200))
            .write(to: URL(fileURLWithPath: path))
        #expect(try #require(throws: IndexFileError.self) { try IndexFile.read(from: path) }.description.contains("not an index file"))
        try FileManager.default.removeItem(atPath: path)
        #expect(try #require(throws: IndexFileError.self) { try IndexFile.read(from: path) }.missing)
        try good.write(to: URL(fileURLWithPath: path))
        #expect(try IndexFile.read(from: path).snapshot.count == snapshot.count)
    }

    @Test func staleFilesSayWhy() throws {
        try IndexFile.write(IndexSnapshot.empty().applying([], version: 12), organizationID: 3, planFingerprint: "plan-a", to: path)
        let contents = try IndexFile.read(from: path)
        #expect(contents.staleness(organizationID: 3, suffixDigits: 9, planFingerprint: "plan-a", storeVersion: 12) == nil)
        #expect(contents.staleness(organizationID: 3, suffixDigits: 9, planFingerprint: "plan-a", storeVersion: 40) == nil, "behind: the log catches up")
        #expect(contents.staleness(organizationID: 4, suffixDigits: 9, planFingerprint: "plan-a", storeVersion: 12)?.contains("organization 3") == true)
        #expect(contents.staleness(organizationID: 3, suffixDigits: 7, planFingerprint: "plan-a", storeVersion: 12)?.contains("suffix digits") == true)
        #expect(contents.staleness(organizationID: 3, suffixDigits: 9, planFingerprint: "plan-b", storeVersion: 12)?.contains("number plan plan-a") == true)
        #expect(contents.staleness(organizationID: 3, suffixDigits: 9, planFingerprint: "plan-a", storeVersion: 5)?.contains("ahead of the store") == true)
    }

    @Test func theChecksumSeesEveryByteAndEveryLength() {
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var seen: Set<UInt64> = []
        bytes.withUnsafeBytes { all in
            for length in 0...bytes.count { seen.insert(IndexFile.checksum(UnsafeRawBufferPointer(rebasing: all[0..<length]))) }
        }
        #expect(seen.count == bytes.count + 1)
        for offset in [0, 31, 32, 255, 299] {
            var changed = bytes
            changed[offset] ^= 1
            #expect(changed.withUnsafeBytes { IndexFile.checksum($0) } != bytes.withUnsafeBytes { IndexFile.checksum($0) })
        }
    }
}

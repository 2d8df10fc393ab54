import Contacts
import Foundation
@testable import LookupIndex
import PhoneNumbers
import Testing

@Suite struct IndexSnapshotTests {
    /// Every lookup of every kind agrees with the reference.
    func expectAgreement(_ snapshot: IndexSnapshot, _ reference: ReferenceIndex, probes: RandomContacts,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        var probes = probes
        #expect(snapshot.count == reference.contacts.count, sourceLocation: sourceLocation)
        for _ in 0..<200 {
            let number = probes.number()
            #expect(snapshot.ids(snapshot.contacts(withNumber: number)) == reference.ids(withNumber: number),
                    "number \(number)", sourceLocation: sourceLocation)
            let key = CallerNumber.suffixKey(of: number, count: snapshot.suffixDigits)!
            #expect(snapshot.ids(snapshot.contacts(withSuffixKey: key)) == reference.ids(withSuffixKey: key),
                    "suffix of \(number)", sourceLocation: sourceLocation)
        }
        for email in ["jan@novak.cz", "Jan@NOVAK.cz", "eva@x.cz", "ŽOFIE@kůň.cz", "nobody@x.cz", ""] {
            #expect(snapshot.ids(snapshot.contacts(withEmail: email)) == reference.ids(withEmail: email),
                    "email \(email)", sourceLocation: sourceLocation)
        }
        #expect(snapshot.allContacts() == reference.contacts.values.sorted { $0.id < $1.id }, sourceLocation: sourceLocation)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func buildAgreesWithTheReference(seed: UInt64) {
        var random = RandomContacts(seed: seed)
        var reference = ReferenceIndex(suffixDigits: 9)
        var contacts: [StoredContact] = []
        for _ in 0..<2_000 {
            let stored = random.fresh(version: 1)
            contacts.append(stored)
            reference.apply(.upsert(stored))
        }
        let snapshot = IndexSnapshot.build(contacts.shuffled(using: &random.random), version: 1)
        expectAgreement(snapshot, reference, probes: RandomContacts(seed: seed + 100))
    }

    @Test(arguments: [7, 8] as [UInt64])
    func deltasAgreeWithTheReferenceAfterEveryStep(seed: UInt64) {
        var random = RandomContacts(seed: seed)
        var reference = ReferenceIndex(suffixDigits: 9)
        var contacts: [StoredContact] = []
        for _ in 0..<500 {
            let stored = random.fresh(version: 1)
            contacts.append(stored)
            reference.apply(.upsert(stored))
        }
        var snapshot = IndexSnapshot.build(contacts, version: 1)
        for step in 2...300 {
            var changes: [ContactChange] = []
            for _ in 0..<(1 + Int(random.random.next() % 4)) {
                let existing = reference.contacts.keys.sorted()
                switch random.random.next() % 3 {
                case 0 where !existing.isEmpty:
                    changes.append(.delete(id: existing[Int(random.random.next() % UInt64(existing.count))], version: Int64(step)))
                case 1 where !existing.isEmpty:
                    let id = existing[Int(random.random.next() % UInt64(existing.count))]
                    changes.append(.upsert(random.contact(id: id, version: Int64(step))))
                default:
                    changes.append(.upsert(random.fresh(version: Int64(step))))
                }
            }
            for change in changes { reference.apply(change) }
            snapshot = snapshot.applying(changes, version: Int64(step))
            #expect(snapshot.version == Int64(step))
            if step % 25 == 0 {
                expectAgreement(snapshot, reference, probes: RandomContacts(seed: UInt64(step)))
                let compacted = snapshot.compacted()
                #expect(compacted.overlaySize == 0)
                expectAgreement(compacted, reference, probes: RandomContacts(seed: UInt64(step)))
                if step % 50 == 0 { snapshot = compacted }
            } else {
                // Spot-check the changed contacts every step.
                for change in changes {
                    if case .upsert(let stored) = change {
                        #expect(snapshot.ids(snapshot.contacts(withNumber: stored.contact.phone1)) == reference.ids(withNumber: stored.contact.phone1))
                    }
                }
            }
        }
    }

    @Test func aNumberSharedByContactsReturnsAllInIdOrder() throws {
        let validator = PhoneNumberValidator()
        let parsed = try ParsedImport.parse(Array("firstName;lastName;phone1;phone2\nJan;Novák;+420222333444;+420777711100\nIvan;Neúplný;+420222333444;+420777711100\n".utf8), validator: validator)
        let stored = parsed.rows.enumerated().map { StoredContact(id: Int64(10 - $0.offset), version: 1, contact: $0.element.contact) }
        let snapshot = IndexSnapshot.build(stored, version: 1)
        let matches = snapshot.contacts(withNumber: PhoneNumber(e164: "+420222333444")!)
        #expect(snapshot.ids(matches) == [9, 10])
        #expect(snapshot.refs(matches).map { snapshot.storedContact($0).contact.displayName } == ["Ivan Neúplný", "Jan Novák"])
    }

    @Test func renderedJSONEqualsTheContactsJSON() {
        var random = RandomContacts(seed: 42)
        let contacts = (0..<200).map { _ in random.fresh(version: 3) }
        var snapshot = IndexSnapshot.build(contacts, version: 3)
        snapshot = snapshot.applying([.upsert(random.fresh(version: 4))], version: 4)
        for stored in snapshot.allContacts() {
            var expected = JSONWriter()
            stored.contact.writeJSON(id: stored.id, version: stored.version, to: &expected)
            var rendered: [UInt8] = []
            snapshot.writeJSON(snapshot.ref(ofID: stored.id)!, to: &rendered)
            #expect(String(decoding: rendered, as: UTF8.self) == expected.string)
        }
    }

    @Test func byteSizeCountsTheArrays() {
        var random = RandomContacts(seed: 5)
        let snapshot = IndexSnapshot.build((0..<1_000).map { _ in random.fresh(version: 1) }, version: 1)
        #expect(snapshot.byteSize > snapshot.base.arena.byteCount + 12 * 1_000)
        #expect(IndexSnapshot.empty().count == 0)
    }

    @Test func concurrentReadersAlwaysSeeOneConsistentVersion() async {
        // Contact k holds number +420600000000+k at version v, for all k, in snapshot v: a reader
        // that sees a mix of versions inside one snapshot would find a contact with another version.
        func snapshot(_ version: Int64) -> IndexSnapshot {
            IndexSnapshot.build((1...300).map { id in
                var values = [String](repeating: "", count: ContactField.allCases.count)
                values[ContactField.lastName.index] = "v\(version)"
                values[ContactField.phone1.index] = "+420600\(String(format: "%06d", id))"
                return StoredContact(id: Int64(id), version: version, contact: Contact(trustedValues: values)!)
            }, version: version)
        }
        let index = OrganizationIndex(snapshot(1))
        let versions = (2...40).map { snapshot(Int64($0)) }
        await withTaskGroup(of: Int.self) { group in
            for reader in 0..<4 {
                group.addTask {
                    var inconsistent = 0
                    for round in 0..<3_000 {
                        let current = index.snapshot
                        let id = (reader * 31 + round) % 300 + 1
                        let matches = current.contacts(withNumber: PhoneNumber(e164: "+420600\(String(format: "%06d", id))")!)
                        let found = current.refs(matches).map { current.storedContact($0) }
                        if found.count != 1 || found[0].version != current.version { inconsistent += 1 }
                    }
                    return inconsistent
                }
            }
            group.addTask {
                for next in versions { index.publish(next) }
                return 0
            }
            for await inconsistent in group { #expect(inconsistent == 0) }
        }
        #expect(index.snapshot.version == 40)
    }
}

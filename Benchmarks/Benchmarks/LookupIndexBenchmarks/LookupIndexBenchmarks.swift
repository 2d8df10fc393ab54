import Benchmark
import Contacts
import LookupIndex
import PhoneNumbers

/// Suites for the index's hot paths, so a regression shows as a change against the saved baseline
/// (`swift package benchmark baseline update` / `compare`). 100,000 synthetic contacts shaped like
/// the customer's maximal sample row; `caller-lookup bench` measures the 1,000,000-contact targets.
let contactCount = 100_000

func syntheticContacts() -> [StoredContact] {
    var generator = ContactGenerator(seed: 1, validatingNumbers: false)
    return (0..<contactCount).map { index in
        let draft = generator.draft(index: index)
        let values = ContactField.allCases.map { draft[$0] ?? "" }
        return StoredContact(id: Int64(index + 1), version: 1, contact: Contact(trustedValues: values)!)
    }
}

let benchmarks: @Sendable () -> Void = {
    let contacts = syntheticContacts()
    let snapshot = IndexSnapshot.build(contacts, version: 1)
    var random = SeededRandom(seed: 7)
    let hits = (0..<10_000).map { _ in contacts[Int(random.next() % UInt64(contactCount))].contact.phone1 }
    let messy = hits.map { "00" + String($0.rawValue) }
    let lookup = CallerLookup(region: "CZ")!

    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(5))

    Benchmark("build 100k contacts", configuration: .init(metrics: [.wallClock, .peakMemoryResident], maxIterations: 10)) { benchmark in
        blackHole(IndexSnapshot.build(contacts, version: 1))
    }

    Benchmark("exact lookup", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for index in benchmark.scaledIterations { blackHole(snapshot.contacts(withNumber: hits[index % hits.count]).count) }
    }

    Benchmark("raw lookup (IDD form)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for index in benchmark.scaledIterations { blackHole(lookup.lookUp(messy[index % messy.count], in: snapshot).matches.count) }
    }

    Benchmark("delta apply (one upsert)") { benchmark in
        for index in benchmark.scaledIterations {
            let target = contacts[index % contactCount]
            blackHole(snapshot.applying([.upsert(StoredContact(id: target.id, version: 2, contact: target.contact))], version: 2))
        }
    }
}

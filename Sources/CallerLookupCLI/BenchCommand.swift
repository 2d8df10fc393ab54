import ArgumentParser
import Contacts
import Foundation
import LookupIndex
import PhoneNumbers
import SQLiteEngine
import StoreContract

/// `caller-lookup bench`: the lookup benchmark of one run — the index against baselines measured in
/// the same process on the same data (a prepared SQLite `SELECT`, a Swift dictionary, libphonenumber).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmark the lookup index against baselines measured in the same run.")

    @Option(help: "How many synthetic contacts.") var contacts = 1_000_000
    @Option(help: "How many lookups per measurement.") var lookups = 1_000_000
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard contacts >= 1 else { throw ValidationError("--contacts must be at least 1.") }
        guard lookups >= 1_000 else { throw ValidationError("--lookups must be at least 1000.") }
    }

    func run() throws {
        try handlingErrors { try benchmark() }
    }

    private func progress(_ text: String) {
        if !json || Terminal.isTerminal(STDERR_FILENO) { printError(text) }
    }

    private func benchmark() throws {
        progress("generating \(contacts) contacts…")
        var generator = ContactGenerator(seed: seed, validatingNumbers: false)
        var stored: [StoredContact] = []
        stored.reserveCapacity(contacts)
        var rawBytes = 0
        var numberCount = 0
        for index in 0..<contacts {
            let draft = generator.draft(index: index)
            let values = ContactField.allCases.map { draft[$0] ?? "" }
            rawBytes += values.reduce(0) { $0 + $1.utf8.count }
            let contact = Contact(trustedValues: values)!
            numberCount += contact.phoneNumbers.count
            stored.append(StoredContact(id: Int64(index + 1), version: 1, contact: contact))
        }

        progress("building the index…")
        let buildStart = DispatchTime.now().uptimeNanoseconds
        let snapshot = IndexSnapshot.build(stored, version: 1)
        let buildSeconds = Double(DispatchTime.now().uptimeNanoseconds - buildStart) / 1e9
        let index = OrganizationIndex(snapshot)

        // Queries: hits are numbers of random contacts, misses random numbers nobody has.
        var random = SeededRandom(seed: seed &+ 99)
        let sampleCount = min(lookups, 100_000)
        let hits = (0..<sampleCount).map { _ in stored[Int(random.next() % UInt64(contacts))].contact.phone1 }
        let misses = (0..<sampleCount).map { _ in PhoneNumber(rawValue: 420_900_000_000 + random.next() % 99_999_999)! }
        let mixed = (0..<sampleCount).map { $0 % 2 == 0 ? hits[$0] : misses[$0] }
        let messyHits = hits.enumerated().map { Self.messy($1, style: $0 % 4) }
        let messyMisses = misses.prefix(2_000).enumerated().map { Self.messy($1, style: $0 % 4) }

        progress("measuring lookups…")
        let exactNs = Self.measure(lookups, mixed) { snapshot.contacts(withNumber: $0).count }
        guard let lookup = CallerLookup(region: "CZ") else { throw Failure("libphonenumber does not know CZ") }
        let rawNs = Self.measure(lookups, messyHits) { lookup.lookUp($0, in: index.snapshot).matches.count }
        let rawMissNs = Self.measure(4_000, messyMisses) { lookup.lookUp($0, in: index.snapshot).matches.count }
        let suffixKeys = hits.map { CallerNumber.suffixKey(of: $0, count: 9)! }
        let suffixNs = Self.measure(lookups, suffixKeys) { snapshot.contacts(withSuffixKey: $0).count }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(4_096)
        let renderNs = Self.measure(min(lookups, 200_000), Array(hits.prefix(10_000))) { number in
            buffer.removeAll(keepingCapacity: true)
            let matches = snapshot.contacts(withNumber: number)
            for ref in snapshot.refs(matches) { snapshot.writeJSON(ref, to: &buffer) }
            return buffer.count
        }

        // What pre-rendering every contact's JSON would cost in memory (the alternative design).
        var renderedBytes = 0
        for ordinal in stride(from: 0, to: contacts, by: max(1, contacts / 10_000)) {
            buffer.removeAll(keepingCapacity: true)
            if let ref = snapshot.ref(ofID: stored[ordinal].id) { snapshot.writeJSON(ref, to: &buffer) }
            renderedBytes += buffer.count
        }
        let renderedJSONBytesPerContact = Double(renderedBytes) / Double((contacts + max(1, contacts / 10_000) - 1) / max(1, contacts / 10_000))

        progress("measuring deltas…")
        var deltaMicros: [Double] = []
        for step in 0..<200 {
            let target = stored[Int(random.next() % UInt64(contacts))]
            var values = target.contact.values
            values[ContactField.customField1.index] = "delta \(step)"
            let change = ContactChange.upsert(StoredContact(id: target.id, version: Int64(step + 2), contact: Contact(trustedValues: values)!))
            let start = DispatchTime.now().uptimeNanoseconds
            index.publish(index.snapshot.applying([change], version: Int64(step + 2)))
            deltaMicros.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3)
        }
        let deltaApplyMicros = Self.median(deltaMicros)

        progress("measuring baselines…")
        let databasePath = NSTemporaryDirectory() + "caller-lookup-bench-\(getpid()).sqlite"
        defer { try? FileManager.default.removeItem(atPath: databasePath) }
        var pairs: [(PhoneNumber, Int64)] = []
        pairs.reserveCapacity(numberCount)
        var dictionary: [String: [Int]] = [:]
        dictionary.reserveCapacity(numberCount)
        for item in stored {
            for number in item.contact.phoneNumbers {
                pairs.append((number, item.id))
                dictionary[number.e164, default: []].append(Int(item.id))
            }
        }
        let baseline = try SQLiteNumberBaseline(path: databasePath, numbers: pairs)
        let mixedText = mixed.map(\.e164)
        let sqliteNs = Self.measure(min(lookups, 200_000), mixedText) { (try? baseline.contactIDs(e164: $0)) ?? 0 }
        let dictionaryNs = Self.measure(lookups, mixedText) { dictionary[$0]?.count ?? 0 }
        let oracle = PhoneNumberValidator(usingNumberPlan: false)
        let messyMixed = mixed.prefix(5_000).enumerated().map { Self.messy($1, style: $0 % 4) }
        let libphonenumberNs = Self.measure(10_000, messyMixed) { text in
            oracle.validate(text, defaultRegion: "CZ").validNumber?.number.e164.utf8.count ?? 0
        }

        progress("measuring validation…")
        // What start-up adds: reading and checking the plan file the process runs with.
        let loadStart = DispatchTime.now().uptimeNanoseconds
        if let path = NumberPlanFile.current.path { _ = try NumberPlanFile.load(path: path) }
        let planLoadMillis = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e6
        let compileStart = DispatchTime.now().uptimeNanoseconds
        let plan = NumberPlan()
        _ = plan.compileAll()
        let planCompileMillis = Double(DispatchTime.now().uptimeNanoseconds - compileStart) / 1e6
        // What an import validates: generated numbers as `generate` writes them, and every example
        // number of every region written with spaces.
        let examples = PhoneNumberValidator.exampleNumbers.map(\.text)
        var numberGenerator = ContactGenerator(seed: seed &+ 7, validatingNumbers: false)
        let importNumbers = (0..<10_000).map { $0 % 2 == 0 ? numberGenerator.phoneNumber() : examples[($0 / 2) % examples.count] }
        let validator = PhoneNumberValidator()
        let validateNs = Self.measure(lookups, importNumbers) { validator.validateInternational($0).validNumber == nil ? 0 : 1 }
        let libphonenumberValidateNs = Self.measure(20_000, importNumbers) { oracle.validateInternational($0).validNumber == nil ? 0 : 1 }
        let planCoverage = Double(importNumbers.filter { plan.verdict(for: $0, defaultRegion: nil) != nil }.count) / Double(importNumbers.count)

        let bytes = index.snapshot.byteSize
        let result: [(String, Any)] = [
            ("contacts", contacts), ("numbers", numberCount), ("buildSeconds", buildSeconds),
            ("indexBytes", bytes), ("bytesPerContact", Double(bytes) / Double(contacts)),
            ("rawBytesPerContact", Double(rawBytes) / Double(contacts)),
            ("exactLookupNs", exactNs), ("rawLookupNs", rawNs), ("rawMissLookupNs", rawMissNs),
            ("suffixLookupNs", suffixNs), ("renderJSONNs", renderNs),
            ("renderedJSONBytesPerContact", renderedJSONBytesPerContact), ("deltaApplyMicros", deltaApplyMicros),
            ("validateNs", validateNs), ("validatePlanCoverage", planCoverage), ("planCompileMillis", planCompileMillis), ("planLoadMillis", planLoadMillis),
            ("baselines", [("sqliteLookupNs", sqliteNs), ("dictionaryLookupNs", dictionaryNs),
                           ("libphonenumberParseNs", libphonenumberNs),
                           ("libphonenumberValidateNs", libphonenumberValidateNs)] as [(String, Any)]),
        ]
        if json {
            print(Self.json(result))
        } else {
            print("contacts            \(contacts) (\(numberCount) numbers)")
            print("build               \(String(format: "%.3f", buildSeconds)) s")
            print("index               \(bytes) bytes, \(String(format: "%.1f", Double(bytes) / Double(contacts))) per contact (raw values \(String(format: "%.1f", Double(rawBytes) / Double(contacts))))")
            print("exact lookup        \(String(format: "%.1f", exactNs)) ns   (SQLite \(String(format: "%.0f", sqliteNs)) ns, Dictionary \(String(format: "%.1f", dictionaryNs)) ns)")
            print("raw lookup          \(String(format: "%.1f", rawNs)) ns   (miss with fallback \(String(format: "%.0f", rawMissNs)) ns; libphonenumber parse \(String(format: "%.0f", libphonenumberNs)) ns)")
            print("suffix lookup       \(String(format: "%.1f", suffixNs)) ns")
            print("render JSON         \(String(format: "%.1f", renderNs)) ns (\(String(format: "%.0f", renderedJSONBytesPerContact)) bytes a contact if pre-rendered)")
            print("delta apply         \(String(format: "%.1f", deltaApplyMicros)) µs")
            print("validate            \(String(format: "%.1f", validateNs)) ns   (libphonenumber \(String(format: "%.0f", libphonenumberValidateNs)) ns, \(String(format: "%.0f", libphonenumberValidateNs / validateNs))×; plan answered \(String(format: "%.1f", planCoverage * 100)) %, compiled in \(String(format: "%.0f", planCompileMillis)) ms, its file read in \(String(format: "%.1f", planLoadMillis)) ms)")
        }
    }

    /// A caller number as PBXs write it: spaced international, IDD, national (Czech) and tel: URI.
    static func messy(_ number: PhoneNumber, style: Int) -> String {
        let digits = String(number.rawValue)
        let czech = digits.hasPrefix("420")
        let national = czech ? String(digits.dropFirst(3)) : String(digits.dropFirst(2))
        let spaced = stride(from: 0, to: national.count, by: 3).map { offset -> String in
            let start = national.index(national.startIndex, offsetBy: offset)
            let end = national.index(start, offsetBy: min(3, national.count - offset))
            return String(national[start..<end])
        }.joined(separator: " ")
        let countryCode = czech ? "420" : String(digits.prefix(2))
        switch style {
        case 0: return "+\(countryCode) \(spaced)"
        case 1: return "00\(digits)"
        case 2: return czech ? spaced : "+\(digits)"
        default: return "tel:+\(countryCode)-\(spaced.replacingOccurrences(of: " ", with: "-"))"
        }
    }

    /// The median over batches of 1,000 calls of the time per call, in nanoseconds.
    static func measure<Input>(_ total: Int, _ inputs: [Input], _ body: (Input) -> Int) -> Double {
        let batch = min(1_000, inputs.count)
        var perCall: [Double] = []
        var sink = 0
        var offset = 0
        for _ in 0..<max(1, total / batch) {
            let start = DispatchTime.now().uptimeNanoseconds
            for index in 0..<batch { sink &+= body(inputs[(offset + index) % inputs.count]) }
            perCall.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(batch))
            offset = (offset + batch) % inputs.count
        }
        if sink == Int.min { print("") }  // keeps the work observable
        return median(perCall)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func json(_ pairs: [(String, Any)]) -> String {
        "{" + pairs.map { key, value in
            let rendered: String
            switch value {
            case let nested as [(String, Any)]: rendered = json(nested)
            case let number as Double: rendered = String(format: "%.3f", number)
            default: rendered = "\(value)"
            }
            return "\"\(key)\":\(rendered)"
        }.joined(separator: ",") + "}"
    }
}

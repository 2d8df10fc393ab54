import Dispatch
import Foundation
import Testing

@testable import PhoneNumbers

/// The validator and the caller-number readings against libphonenumber on numbers generated from
/// its own metadata (`GeneratedNumbers`): every entry, every number type, every allowed length and
/// its neighbours, every branch of the type's pattern. The suite checks a seeded subset;
/// `NUMBER_PLAN_COVERAGE=full` (see `scripts/number-plan-differential.sh`) checks all of it, and
/// `NUMBER_PLAN_SEED` changes the digits drawn.
@Suite struct GeneratedNumberTests {
    let validator = PhoneNumberValidator(plan: .library)

    static var generated: GeneratedNumbers {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["NUMBER_PLAN_SEED"].flatMap { UInt64($0) } ?? 0x5EED
        return GeneratedNumbers(seed: seed, every: environment["NUMBER_PLAN_COVERAGE"] == "full" ? 1 : 40)
    }

    /// The issue's three German toll-free numbers (16 digits in E.164 form) and the longest valid
    /// numbers of the metadata: libphonenumber calls them valid, so do we.
    @Test(arguments: [
        ("+49 800 12345678908", nil as String?, "+4980012345678908"),
        ("0800 12345678903", "DE", "+4980012345678903"),
        ("+4980012345678907", nil, "+4980012345678907"),
    ])
    func numbersLongerThanFifteenDigitsAreValid(text: String, region: String?, e164: String) throws {
        let number = try #require(validator.validate(text, defaultRegion: region).validNumber)
        #expect(number.number.e164 == e164)
        #expect(number.type == .tollFree)
        #expect(number.region == "DE")
        #expect(Oracle.disagreement(validator.validate(text, defaultRegion: region), text: text, region: region) == nil)
        if region == nil { #expect(validator.validateInternational(text).validNumber == number) }
        #expect(PhoneNumber(e164: e164) == number.number)
    }

    /// Every number the installed metadata can call valid fits `PhoneNumber`: its country code and
    /// the longest length any entry allows have at most `PhoneNumber.maximumDigits` digits.
    @Test func everyValidLengthFitsAPhoneNumber() {
        var longest = 0
        for entry in RegionMetadata.library where entry.id != "ZZ" {
            let lengths = NumberDescriptionKind.allCases.flatMap { entry[$0].possibleLengths }
            longest = max(longest, String(entry.countryCode).count + (lengths.max() ?? 0))
        }
        #expect(longest >= 17, "the metadata's longest numbers (+81 with 17 digits) should be seen")
        #expect(longest <= PhoneNumber.maximumDigits)
    }

    /// International and national forms of every generated number get libphonenumber's verdict:
    /// validity, E.164, type, region, reason.
    /// Runs a long, CPU-bound check on a dispatch thread: a test that computed for seconds on
    /// Swift's cooperative pool (two threads here) would stall every async test running beside it.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    @Test func generatedNumbersGetLibphonenumbersVerdict() async {
        let (checked, longerThan15, disagreements) = await Self.offPool { Self.validations(validator: PhoneNumberValidator(plan: .library)) }
        #expect(checked > 10_000)
        #expect(longerThan15 > 0)
        #expect(disagreements.isEmpty, "\(disagreements.prefix(20).joined(separator: "\n"))")
    }

    static func validations(validator: PhoneNumberValidator) -> (checked: Int, longerThan15: Int, disagreements: [String]) {
        var checked = 0
        var valid = 0
        var longerThan15 = 0
        var disagreements: [String] = []
        func check(_ text: String, _ region: String?) {
            checked += 1
            let verdict = validator.validate(text, defaultRegion: region)
            if let number = verdict.validNumber {
                valid += 1
                if number.number.digitCount > 15 { longerThan15 += 1 }
            }
            if let problem = Oracle.disagreement(verdict, text: text, region: region) { disagreements.append(problem) }
        }
        Self.generated.forEach { number in
            let national = number.nationalText
            check(number.international, nil)
            check("+\(number.entry.countryCode) \(national)", nil)
            guard number.entry.id != "001" else { return }
            check(national, number.entry.id)
            if !number.entry.nationalPrefix.isEmpty { check(number.entry.nationalPrefix + national, number.entry.id) }
        }
        print(
            "generated numbers: \(checked) inputs, \(valid) valid (\(longerThan15) longer than 15 digits), "
                + "\(disagreements.count) disagreements")
        return (checked, longerThan15, disagreements)
    }

    /// Every generated valid number, written as PBXs send it — spaced, `tel:`, `sip:`, `%2B`, IDD,
    /// digits without `+`, national with and without the trunk prefix — to an organization in its own
    /// region and to one abroad: where libphonenumber's `Parse` with the organization's region reads
    /// a valid number, the first of the lookup's readings (normalizer candidates, then the
    /// validator's) that a stored number can equal is that number; and a form written with `+` always
    /// has the number itself among the readings, so its contact is found. (National and IDD forms
    /// can be ambiguous — Thailand's `001800…` numbers begin with its IDD `001` — and there
    /// libphonenumber's reading is the one to follow.)
    @Test func callerNumbersResolveAsLibphonenumberReadsThem() async {
        let (checked, problems) = await Self.offPool { Self.callerNumberProblems(validator: PhoneNumberValidator(plan: .library)) }
        #expect(checked > 5_000)
        #expect(problems.isEmpty, "\(problems.prefix(20).joined(separator: "\n"))")
    }

    static func callerNumberProblems(validator: PhoneNumberValidator) -> (checked: Int, problems: [String]) {
        let abroad = ["CZ", "DE", "US", "GB", "JP", "AU", "BR", "RU", "IN", "NG", "FR", "IT", "CN", "ZA"]
        var normalizers: [String: CallerNumberNormalizer] = [:]
        var checked = 0
        var resolvedByLibphonenumber = 0
        var problems: [String] = []
        var numbers = 0
        Self.generated.forEach { number in
            guard number.allowedLength, let e164 = Oracle.validE164(number.international, region: nil) else { return }
            numbers += 1
            let own = number.entry.id
            let organizations = own == "001" ? [abroad[numbers % abroad.count]] : [own, abroad[numbers % abroad.count]]
            for organization in organizations {
                for form in PBXForms.forms(of: number, calledIn: organization) {
                    checked += 1
                    if normalizers[organization] == nil { normalizers[organization] = CallerNumberNormalizer(region: organization, plan: .library) }
                    let readings = Self.readings(form, organization: organization, normalizer: normalizers[organization]!)
                    if PBXForms.isInternational(form), !readings.contains(where: { $0.e164 == e164 }) {
                        problems.append("\(form.debugDescription) in \(organization): \(e164) not among \(readings)")
                        continue
                    }
                    guard let read = Oracle.validE164(form, region: organization) else { continue }
                    // A stored number is in its canonical form: libphonenumber's reading, validated again.
                    let expected = Oracle.validE164(read, region: nil) ?? read
                    resolvedByLibphonenumber += 1
                    // The first reading that is a stored number's form: valid and already canonical
                    // (`+52 1 228…` validates, but as `+52 228…`, so no contact is stored under it).
                    let resolved = readings.first { validator.validateInternational($0.e164).validNumber?.number == $0 }
                    if resolved?.e164 != expected {
                        problems.append("\(form.debugDescription) in \(organization): resolves to \(resolved), libphonenumber \(expected)")
                    }
                }
            }
        }
        print(
            "caller numbers: \(numbers) valid numbers, \(checked) PBX forms, \(resolvedByLibphonenumber) read as valid by "
                + "libphonenumber, \(problems.count) problems")
        return (checked, problems)
    }

    /// What a lookup tries, in order: the normalizer's candidates, then the validator's readings.
    static func readings(_ text: String, organization: String, normalizer: CallerNumberNormalizer) -> [PhoneNumber] {
        var result = Array(normalizer.normalize(text))
        for candidate in PhoneNumberValidator(plan: .library).candidates(for: CallerNumber(text), defaultRegion: organization)
        where !result.contains(candidate) {
            result.append(candidate)
        }
        return result
    }
}

/// The ways PBXs and CTI clients send one caller's number.
enum PBXForms {
    /// Written with `+`, so the number cannot be read another way.
    static func isInternational(_ form: String) -> Bool {
        ["+", "tel:+", "sip:+", "%2B"].contains { form.hasPrefix($0) }
    }

    static func forms(of number: GeneratedNumbers.Number, calledIn organization: String) -> [String] {
        let code = String(number.entry.countryCode)
        let national = number.nationalText
        let grouped = stride(from: 0, to: national.count, by: 3).map { offset in
            let start = national.index(national.startIndex, offsetBy: offset)
            return String(national[start..<(national.index(start, offsetBy: 3, limitedBy: national.endIndex) ?? national.endIndex)])
        }
        var forms = [
            "+\(code) \(grouped.joined(separator: " "))",
            "tel:+\(code)-\(grouped.joined(separator: "-"))",
            "sip:+\(code)\(national)@pbx.example;user=phone",
            "%2B\(code)\(national)",
            "\(code)\(national)",
        ]
        if let facts = DialingPlan.library[organization], let idd = internationalPrefix(of: organization, facts) {
            forms.append("\(idd) \(code) \(national)")
        }
        if organization == number.entry.id {
            forms.append(national)
            if !number.entry.nationalPrefix.isEmpty {
                forms.append("\(number.entry.nationalPrefix) \(grouped.joined(separator: " "))")
            }
        }
        return forms
    }

    /// The IDD prefix a region's PBX puts before a foreign number: the preferred one, else the
    /// shortest the region's pattern allows.
    static func internationalPrefix(of region: String, _ facts: DialingFacts) -> String? {
        let entry = RegionMetadata.library.first { $0.id == region }
        if let preferred = entry?.preferredInternationalPrefix, !preferred.isEmpty, preferred.allSatisfy(\.isNumber) {
            return preferred
        }
        return facts.internationalPrefixes.last.map { String(decoding: $0.map { $0 + UInt8(ascii: "0") }, as: UTF8.self) }
    }
}

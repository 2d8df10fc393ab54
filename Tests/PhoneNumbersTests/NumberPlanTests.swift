import Foundation
import Testing

@testable import PhoneNumbers

/// The compiled plan against libphonenumber itself: every example number of the installed library
/// plus seeded mutations of them, read both ways; any difference in verdict (validity, E.164,
/// type, region, reason) is a failure. `NUMBER_PLAN_MUTATIONS` and `NUMBER_PLAN_SEED` set the
/// count and seed for the long run (`scripts/number-plan-differential.sh`).
@Suite struct NumberPlanTests {
    // Against the C++ library: the plan of its own metadata (the shipped plan's differential is
    // scripts/number-plan-pypi.sh, against PyPI's phonenumbers of the plan's version).
    let fast = PhoneNumberValidator(plan: .library)
    let oracle = PhoneNumberValidator(usingNumberPlan: false)

    @Test func everyPartOfTheMetadataCompiles() {
        for plan in [NumberPlan(), NumberPlan.library] {
            #expect(plan.regionCount > 240)
            let uncompiled = plan.compileAll()
            #expect(uncompiled.isEmpty, "\(uncompiled)")
        }
    }

    @Test func everyExampleNumberGetsLibphonenumbersVerdict() {
        let examples = PhoneNumberValidator.libraryExampleNumbers
        #expect(examples.count > 1000)
        var covered = 0
        var uncovered: [String] = []
        for example in examples {
            let expected = oracle.validate(example.text)
            #expect(fast.validate(example.text) == expected, "\(example.text)")
            if NumberPlan.library.verdict(for: example.text, defaultRegion: nil) != nil {
                covered += 1
            } else {
                uncovered.append("\(example.region) \(example.text)")
            }
        }
        print("examples left to libphonenumber: \(uncovered.joined(separator: ", "))")
        // The plan itself must answer nearly all of them, or the speed is not real.
        #expect(covered * 100 >= examples.count * 97, "plan answered \(covered) of \(examples.count)")
    }

    @Test func seededMutationsGetLibphonenumbersVerdict() {
        let count = ProcessInfo.processInfo.environment["NUMBER_PLAN_MUTATIONS"].flatMap(Int.init) ?? 20_000
        let seed = ProcessInfo.processInfo.environment["NUMBER_PLAN_SEED"].flatMap { UInt64($0) } ?? 0x5EED
        let result = NumberPlanDifferential.run(mutations: count, seed: seed, fast: fast, oracle: oracle)
        #expect(result.disagreements.isEmpty, "\(result.disagreements.prefix(20).joined(separator: "\n"))")
        print("number plan differential (seed \(seed)): \(result.summary)")
    }

    @Test(arguments: [
        ("+420 222 333 444", nil as String?), ("+44 (0)20 7946 0958", nil), ("+1 268 464 1234", nil),
        ("+7 701 234 5678", nil), ("+7 912 345 67 89", nil), ("+39 06 6988 2109", nil), ("+800 1234 5678", nil),
        ("+54 9 11 2345 6789", nil), ("+55 11 96123 4567", nil), ("+61 4 1234 5678", nil),
        ("020 7946 0958", "GB"), ("0222 333 444", "CZ"), ("222 333 444", "cz"), ("(212) 555-0100", "US"),
        ("1 212 555 0100", "US"), ("00420 222 333 444", "DE"), ("8 912 345 67 89", "RU"), ("06 6988 2109", "IT"),
        ("+420\u{00A0}222\u{2010}333\u{2013}444", nil), ("+420\t222 333 444", nil), ("+4202223334445555", nil),
        ("+42022233", nil), ("+999 222 333 444", nil), ("+12", nil), ("+0 123 456", nil),
    ])
    func handPickedForms(text: String, region: String?) {
        #expect(fast.validate(text, defaultRegion: region) == oracle.validate(text, defaultRegion: region))
    }

    @Test func automatonMatchesWhatTheRegularExpressionMeans() throws {
        let automaton = try #require(DigitAutomaton(patterns: ["(?:2\\d|3[1257-9])\\d{2,3}", "0?(?:(11|2[2-4])?15)?", "[^0-8]\\d?"]))
        func digits(_ text: String) -> [UInt8] { text.utf8.map { $0 - 48 } }
        func full(_ text: String) -> UInt16 { digits(text).withUnsafeBufferPointer { automaton.fullMatches($0) } }
        #expect(full("2012") == 1)
        #expect(full("31123") == 1)
        #expect(full("311234") == 0)
        #expect(full("3312") == 0)
        #expect(full("") == 2)
        #expect(full("015") == 2)
        #expect(full("01115") == 2)
        #expect(full("9") == 4)
        #expect(full("95") == 4)
        let prefixes = digits("0111512").withUnsafeBufferPointer { automaton.prefixMatches($0, pattern: 1) }
        #expect(prefixes == PrefixMatches(empty: true, nonEmptyCount: 2, shortestNonEmpty: 1))
        let anchored = try #require(DigitAutomaton(patterns: ["1|([2-9]\\d{2})$"]))
        func anchoredPrefixes(_ text: String) -> PrefixMatches {
            digits(text).withUnsafeBufferPointer { anchored.prefixMatches($0) }
        }
        #expect(anchoredPrefixes("234") == PrefixMatches(empty: false, nonEmptyCount: 1, shortestNonEmpty: 3))
        #expect(anchoredPrefixes("2345") == PrefixMatches(empty: false, nonEmptyCount: 0, shortestNonEmpty: 0))
        #expect(anchoredPrefixes("123") == PrefixMatches(empty: false, nonEmptyCount: 1, shortestNonEmpty: 1))
        #expect(digits("234").withUnsafeBufferPointer { anchored.fullMatches($0) } == 1)
        #expect(DigitAutomaton(patterns: ["^1"]) == nil)
        #expect(DigitAutomaton(patterns: ["\\d++"]) == nil)
        #expect(DigitAutomaton(patterns: ["(1"]) == nil)
    }
}

/// Generates seeded mutations of libphonenumber's example numbers and compares the two validators.
enum NumberPlanDifferential {
    struct Result {
        var checked = 0
        var answeredByPlan = 0
        var valid = 0
        var disagreements: [String] = []

        var summary: String {
            "\(checked) inputs, \(disagreements.count) disagreements, \(valid) valid, plan answered \(answeredByPlan) "
                + "(\(checked > 0 ? answeredByPlan * 100 / checked : 0) %)"
        }
    }

    static func run(mutations: Int, seed: UInt64, fast: PhoneNumberValidator, oracle: PhoneNumberValidator) -> Result {
        let examples = PhoneNumberValidator.libraryExampleNumbers
        let regions = Array(Set(examples.map(\.region).filter { $0 != "001" })).sorted()
        var random = SplitMix(seed: seed)
        var result = Result()
        func check(_ text: String, _ region: String?) {
            result.checked += 1
            let expected = oracle.validate(text, defaultRegion: region)
            if NumberPlan.library.verdict(for: text, defaultRegion: region) != nil { result.answeredByPlan += 1 }
            let actual = fast.validate(text, defaultRegion: region)
            if expected.validNumber != nil { result.valid += 1 }
            // Against libphonenumber's unmapped answer: the E.164 text, not a packed value both
            // sides could lose the same way (how numbers over 15 digits went unseen).
            if let problem = Oracle.disagreement(actual, text: text, region: region) {
                result.disagreements.append(problem)
            }
        }
        for example in examples { check(example.text, nil) }
        let separators = [" ", " ", "-", ".", "/", "(", ")", "\u{A0}", "\u{2010}", "\u{2013}", "\t", "\u{2007}", "x", "#", "*", "a"]
        for _ in 0..<mutations {
            let example = examples[random.below(examples.count)]
            let parts = example.text.dropFirst().split(separator: " ")
            var code = Array(parts[0].utf8)
            var national = Array(parts[1].utf8)
            var plus = true
            var region: String? = nil
            for _ in 0...random.below(3) {
                switch random.below(12) {
                case 0, 1:  // a digit changed
                    if !national.isEmpty { national[random.below(national.count)] = UInt8(48 + random.below(10)) }
                case 2:  // a digit dropped
                    if !national.isEmpty { national.remove(at: random.below(national.count)) }
                case 3:  // a digit added
                    national.insert(UInt8(48 + random.below(10)), at: random.below(national.count + 1))
                case 4:  // a wrong country code
                    code = Array(String(1 + random.below(999)).utf8)
                case 5:  // a trunk prefix written after the country code
                    national.insert(contentsOf: random.below(2) == 0 ? Array("0".utf8) : Array("(0)".utf8), at: 0)
                case 6:  // national form, read in the example's region or another one
                    plus = false
                    region = random.below(3) == 0 ? regions[random.below(regions.count)] : example.region
                    if random.below(2) == 0 { national.insert(UInt8(ascii: "0"), at: 0) }
                    code = []
                case 7:  // international digits without `+`, read in some region
                    plus = false
                    region = regions[random.below(regions.count)]
                case 8:  // an international call prefix instead of `+`
                    plus = false
                    code = Array((random.below(2) == 0 ? "00" : "011").utf8) + code
                    region = regions[random.below(regions.count)]
                case 9:  // cut short or run long
                    if random.below(2) == 0, national.count > 1 {
                        national.removeLast(random.below(national.count))
                    } else {
                        for _ in 0...random.below(6) { national.append(UInt8(48 + random.below(10))) }
                    }
                default:  // separators
                    for _ in 0...random.below(4) {
                        let separator = Array(separators[random.below(separators.count)].utf8)
                        national.insert(contentsOf: separator, at: random.below(national.count + 1))
                    }
                }
            }
            let text = (plus ? "+" : "") + String(decoding: code, as: UTF8.self) + (code.isEmpty ? "" : " ")
                + String(decoding: national, as: UTF8.self)
            check(text, plus && random.below(4) == 0 ? regions[random.below(regions.count)] : region)
        }
        return result
    }
}

/// A small seeded generator (SplitMix64), so every run checks the same inputs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

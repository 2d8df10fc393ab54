/// How numbers are dialled in one region, read from libphonenumber's compiled metadata: what a
/// caller's number looks like before it is E.164.
public struct DialingFacts: Hashable, Sendable {
    /// `CZ`, or `001` for non-geographic entities.
    public let region: String
    public let countryCode: Int
    /// The international (IDD) prefixes the region dials, expanded from libphonenumber's pattern
    /// (`00`, `011`, `810`, …), longest first; empty when the pattern is not a finite digit set.
    public let internationalPrefixes: [[UInt8]]
    /// The trunk prefixes stripped from national numbers (`0`, `8`, `1`), expanded from
    /// `national_prefix_for_parsing` (or `national_prefix`), longest first. Empty when the region
    /// has none or rewrites numbers with a transform rule (then libphonenumber's full parse decides).
    public let trunkPrefixes: [[UInt8]]
    /// The digits of the country code, e.g. `[4, 2, 0]`.
    public let countryCodeDigits: [UInt8]
    /// Whether libphonenumber rewrites what follows the national prefix (a transform rule:
    /// Argentina's and Brazil's carrier codes, the Caribbean's seven-digit local numbers), so that
    /// only its own parse reads a national number exactly.
    public let rewritesNationalNumbers: Bool
}

/// Every region's `DialingFacts`, loaded once from the installed libphonenumber; no table is typed
/// by hand, so a newer library brings newer rules.
public struct DialingPlan: Sendable {
    public let regions: [String: DialingFacts]
    /// The number plan its readings defer to where a national prefix rewrites a number.
    let numberPlan: NumberPlan

    /// The dialling facts of the plan this process runs with.
    public static let installed = DialingPlan(metadata: RegionMetadata.installed, numberPlan: .installed)

    /// The dialling facts of the C++ library's own metadata (the differential's).
    public static let library = DialingPlan(metadata: RegionMetadata.library, numberPlan: .library)

    private init(metadata entries: [RegionMetadata], numberPlan: NumberPlan) {
        self.numberPlan = numberPlan
        var regions: [String: DialingFacts] = [:]
        let byLength = { (a: [UInt8], b: [UInt8]) in a.count != b.count ? a.count > b.count : a.lexicographicallyPrecedes(b) }
        for metadata in entries {
            let international = DigitPattern.expand(metadata.internationalPrefix) ?? []
            let preferred = DigitPattern.expand(metadata.preferredInternationalPrefix) ?? []
            var trunk: [[UInt8]] = []
            if metadata.nationalPrefixTransformRule.isEmpty {
                let parsing = metadata.nationalPrefixForParsing
                trunk = (parsing.isEmpty ? DigitPattern.expand(metadata.nationalPrefix) : DigitPattern.expand(parsing)) ?? []
            }
            let facts = DialingFacts(
                region: metadata.id,
                countryCode: metadata.countryCode,
                internationalPrefixes: Array(Set(international + preferred)).filter { !$0.isEmpty }.sorted(by: byLength),
                trunkPrefixes: Array(Set(trunk)).filter { !$0.isEmpty }.sorted(by: byLength),
                countryCodeDigits: String(metadata.countryCode).utf8.map { $0 - UInt8(ascii: "0") },
                rewritesNationalNumbers: !metadata.nationalPrefixTransformRule.isEmpty
            )
            // Non-geographic entities share the id "001"; keep the first.
            if regions[metadata.id] == nil { regions[metadata.id] = facts }
        }
        self.regions = regions
    }

    public subscript(region: String) -> DialingFacts? {
        regions[region.uppercased()]
    }
}

/// Expands the small digit-only regular expressions libphonenumber uses for prefixes
/// (`00`, `0(?:0|1[0-9])`, `8~10`, `[78]?0`) into the finite set of digit strings they match.
enum DigitPattern {
    /// `nil` when the pattern uses anything but digits, `\d`, classes, groups, `|`, `?` and
    /// bounded repeats, or matches more than `limit` strings.
    static func expand(_ pattern: String, limit: Int = 4096) -> [[UInt8]]? {
        var parser = Parser(scalars: Array(pattern.unicodeScalars), limit: limit)
        guard let result = parser.alternation(), parser.position == parser.scalars.count else { return nil }
        return result
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        let limit: Int
        var position = 0

        mutating func alternation() -> [[UInt8]]? {
            guard var result = sequence() else { return nil }
            while position < scalars.count, scalars[position] == "|" {
                position += 1
                guard let next = sequence() else { return nil }
                result += next
                guard result.count <= limit else { return nil }
            }
            return result
        }

        mutating func sequence() -> [[UInt8]]? {
            var result: [[UInt8]] = [[]]
            while position < scalars.count, scalars[position] != "|", scalars[position] != ")" {
                guard let atom = atom(), let repeated = quantified(atom) else { return nil }
                var next: [[UInt8]] = []
                for prefix in result {
                    for suffix in repeated { next.append(prefix + suffix) }
                }
                guard next.count <= limit else { return nil }
                result = next
            }
            return result
        }

        mutating func atom() -> [[UInt8]]? {
            let scalar = scalars[position]
            position += 1
            switch scalar {
            case "0"..."9":
                return [[UInt8(scalar.value - 48)]]
            case "~":
                // libphonenumber writes "wait for a second dial tone" as '~'; dialled numbers omit it.
                return [[]]
            case "\\":
                guard position < scalars.count, scalars[position] == "d" else { return nil }
                position += 1
                return (0...9).map { [UInt8($0)] }
            case "[":
                var digits: [UInt8] = []
                while position < scalars.count, scalars[position] != "]" {
                    let low = scalars[position]
                    guard ("0"..."9").contains(low) else { return nil }
                    if position + 2 < scalars.count, scalars[position + 1] == "-" {
                        let high = scalars[position + 2]
                        guard ("0"..."9").contains(high), low <= high else { return nil }
                        digits += (low.value...high.value).map { UInt8($0 - 48) }
                        position += 3
                    } else {
                        digits.append(UInt8(low.value - 48))
                        position += 1
                    }
                }
                guard position < scalars.count else { return nil }
                position += 1
                return digits.map { [$0] }
            case "(":
                if position + 1 < scalars.count, scalars[position] == "?", scalars[position + 1] == ":" {
                    position += 2
                }
                guard let inner = alternation(), position < scalars.count, scalars[position] == ")" else { return nil }
                position += 1
                return inner
            default:
                return nil
            }
        }

        mutating func quantified(_ atom: [[UInt8]]) -> [[UInt8]]? {
            guard position < scalars.count else { return atom }
            switch scalars[position] {
            case "?":
                position += 1
                return [[]] + atom
            case "{":
                position += 1
                var numbers: [Int] = [0]
                while position < scalars.count, scalars[position] != "}" {
                    let scalar = scalars[position]
                    if scalar == "," {
                        numbers.append(0)
                    } else if ("0"..."9").contains(scalar) {
                        numbers[numbers.count - 1] = numbers[numbers.count - 1] * 10 + Int(scalar.value - 48)
                    } else {
                        return nil
                    }
                    position += 1
                }
                guard position < scalars.count, numbers.count <= 2 else { return nil }
                position += 1
                let low = numbers[0]
                let high = numbers.count == 2 ? numbers[1] : low
                guard low <= high, high <= 6 else { return nil }
                var result: [[UInt8]] = []
                var current: [[UInt8]] = [[]]
                for count in 0...high {
                    if count >= low { result += current }
                    if count == high { break }
                    var next: [[UInt8]] = []
                    for prefix in current { for suffix in atom { next.append(prefix + suffix) } }
                    guard next.count <= limit else { return nil }
                    current = next
                }
                return result.count <= limit ? result : nil
            case "*", "+":
                return nil
            default:
                return atom
            }
        }
    }
}

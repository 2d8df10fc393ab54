import CPhoneNumbers

@testable import PhoneNumbers

/// Numbers generated from libphonenumber's own metadata: for every entry (region or non-geographic
/// entity), every number type it describes and every length the type's possible-lengths list
/// allows, plus one shorter and one longer, national numbers that walk every branch of the type's
/// pattern (`DigitAutomaton.coveringMatches`). The lengths next to the allowed ones also get the
/// pattern's own strings of that length (what the possible-lengths filter must refuse) and the
/// allowed strings cut by a digit or grown by one.
///
/// Deterministic for a seed; `every` and the seed's offset pick a subset for the test suite.
struct GeneratedNumbers {
    struct Number {
        let entry: RegionMetadata
        let kind: NumberDescriptionKind
        /// The national significant number's digits (0–9).
        let national: [UInt8]
        /// Whether the type's possible lengths allow `national.count`.
        let allowedLength: Bool

        var nationalText: String { String(decoding: national.map { $0 + UInt8(ascii: "0") }, as: UTF8.self) }
        var international: String { "+\(entry.countryCode)\(nationalText)" }
    }

    let seed: UInt64
    /// 1 for the full run; n checks about one generated number in n.
    let every: Int

    /// The longest national number libphonenumber parses (`kMaxLengthForNsn`), plus one.
    static let longestLength = 18

    func forEach(_ body: (Number) -> Void) {
        var random = SplitMix(seed: seed)
        var sample = SplitMix(seed: seed ^ 0xC0FFEE)
        for entry in RegionMetadata.library where entry.id != "ZZ" {
            let general = entry[.general].possibleLengths
            for kind in NumberDescriptionKind.allCases {
                let description = entry[kind]
                guard !description.pattern.isEmpty, let automaton = DigitAutomaton(patterns: [description.pattern]) else {
                    continue
                }
                let allowed = Set(description.possibleLengths.isEmpty ? general : description.possibleLengths)
                guard !allowed.contains(-1) else { continue }
                var byLength: [Int: Set<[UInt8]>] = [:]
                for length in allowed.sorted() {
                    let matches = automaton.coveringMatches(length: length, random: &random)
                    byLength[length, default: []].formUnion(matches)
                    for neighbour in [length - 1, length + 1] where !allowed.contains(neighbour) {
                        guard neighbour >= 1, neighbour <= Self.longestLength else { continue }
                        if byLength[neighbour] == nil {
                            byLength[neighbour] = Set(automaton.coveringMatches(length: neighbour, random: &random))
                        }
                        for match in matches {
                            byLength[neighbour]!.insert(
                                neighbour < length ? Array(match.dropLast()) : match + [UInt8(random.below(10))])
                        }
                    }
                }
                for (length, numbers) in byLength.sorted(by: { $0.key < $1.key }) {
                    for national in numbers.sorted(by: { $0.lexicographicallyPrecedes($1) })
                    where every == 1 || sample.below(every) == 0 {
                        body(Number(entry: entry, kind: kind, national: national, allowedLength: allowed.contains(length)))
                    }
                }
            }
        }
    }
}

/// libphonenumber's own answer, unmapped, and what a verdict of ours gets wrong against it.
enum Oracle {
    /// libphonenumber's E.164 text for `text` read in `region` (`+` and up to 20 digits), `nil`
    /// when it does not parse.
    static func e164(_ text: String, region: String?) -> String? {
        let raw = PhoneNumberValidator.analysis(text, defaultRegion: region)
        return raw.parse_error == 0 ? e164Text(raw) : nil
    }

    /// Whether libphonenumber reads `text` in `region` as a valid number, and which.
    static func validE164(_ text: String, region: String?) -> String? {
        let raw = PhoneNumberValidator.analysis(text, defaultRegion: region)
        return raw.parse_error == 0 && raw.valid == 1 ? e164Text(raw) : nil
    }

    /// A description of how `actual` differs from libphonenumber's answer for `text` read in
    /// `region` — validity, E.164 (compared as text, so no packing can hide a loss), type, region,
    /// country code, reason — or `nil` when it does not.
    static func disagreement(_ actual: PhoneNumberVerdict, text: String, region: String?) -> String? {
        let raw = PhoneNumberValidator.analysis(text, defaultRegion: region)
        let rawRegion = withUnsafeBytes(of: raw.region) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let e164 = raw.parse_error == 0 ? e164Text(raw) : ""
        let said =
            raw.parse_error != 0
            ? "parse error \(raw.parse_error)"
            : "\(raw.valid == 1 ? "valid" : "invalid") \(e164) type \(raw.type) region \(rawRegion) possibility \(raw.possibility)"
        func report(_ what: String) -> String {
            "\(text.debugDescription) in \(region ?? "-"): \(what); ours \(actual), libphonenumber \(said)"
        }
        switch actual {
        case .valid(let number):
            guard raw.parse_error == 0, raw.valid == 1 else { return report("validity") }
            if number.number.e164 != e164 { return report("E.164") }
            if number.type.rawValue != raw.type { return report("type") }
            if number.region != rawRegion { return report("region") }
            if number.countryCode != Int(raw.country_code) { return report("country code") }
            return nil
        case .invalid(let reason, let parsed):
            if raw.parse_error == 0, raw.valid == 1 { return report("validity") }
            guard case .invalid(let expectedReason, _) = PhoneNumberValidator.verdict(raw) else { return report("mapping") }
            if reason != expectedReason { return report("reason") }
            // A parsed number is kept whenever it fits (every number up to 19 digits).
            let fits = e164.utf8.count <= PhoneNumber.maximumDigits + 1
            if parsed?.e164 != (raw.parse_error == 0 && fits ? e164 : nil) { return report("parsed number") }
            return nil
        }
    }

    static func e164Text(_ raw: cpn_analysis) -> String {
        withUnsafeBytes(of: raw.e164_text) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }
}

import Atomics
import Foundation

/// libphonenumber's numbering plan compiled into digit automata: validation of a number in about a
/// hundred nanoseconds with exactly libphonenumber's verdict.
///
/// Every region's metadata is read from the installed library (`RegionMetadata`) and its eleven
/// number descriptions are compiled into one `DigitAutomaton`, so a single pass over the national
/// number says which descriptions match; leading digits, international prefix and national prefix
/// for parsing get automata of their own. A country code's regions are compiled on first use
/// (about a millisecond each; all 250 take about 150 ms), so an import of Czech numbers compiles
/// only +420, and readers never lock. `verdict(for:defaultRegion:)` then
/// follows the steps of libphonenumber's `Parse`, `IsValidNumber`, `GetNumberType`,
/// `GetRegionCodeForNumber` and `IsPossibleNumberWithReason` for the inputs it covers, and answers
/// `nil` — "ask libphonenumber" — for every other input: characters other than digits, one leading
/// `+` and the separators both accept, an unknown country code, a national prefix it cannot strip
/// unambiguously, a pattern it could not compile. Nothing is guessed; the differential tests check
/// the two against each other.
public struct NumberPlan: Sendable {
    /// The plan this process runs with (`NumberPlanFile.current`); each country code is compiled on first use.
    public static let installed = NumberPlan()

    /// The plan of the C++ library's own compiled-in metadata: the C++ differential's.
    public static let library = NumberPlan(metadata: RegionMetadata.library)

    /// Indexed by country calling code (1–999): the metadata of the regions sharing it, the main
    /// one first, as libphonenumber orders them.
    private let metadataByCode: [[RegionMetadata]]
    /// Indexed by country calling code: its compiled regions, once something needed them.
    private let compiledByCode: [ManagedAtomicLazyReference<CompiledCountry>]
    /// Two-letter region ids (not `001`): the country code and the position in its list.
    private let regionsByID: [String: (code: Int, position: Int)]

    /// How many metadata entries the plan holds.
    public let regionCount: Int

    /// Reads the installed library's metadata; nothing is compiled yet.
    public init() {
        self.init(metadata: RegionMetadata.installed)
    }

    init(metadata: [RegionMetadata]) {
        var byCode = [[RegionMetadata]](repeating: [], count: 1000)
        var count = 0
        for entry in metadata where entry.id != "ZZ" && (1...999).contains(entry.countryCode) {
            count += 1
            if entry.isMainCountryForCode {
                byCode[entry.countryCode].insert(entry, at: 0)
            } else {
                byCode[entry.countryCode].append(entry)
            }
        }
        var byID: [String: (code: Int, position: Int)] = [:]
        for (code, entries) in byCode.enumerated() {
            for (position, entry) in entries.enumerated() where entry.id != "001" && byID[entry.id] == nil {
                byID[entry.id] = (code, position)
            }
        }
        metadataByCode = byCode
        compiledByCode = (0..<1000).map { _ in ManagedAtomicLazyReference() }
        regionsByID = byID
        regionCount = count
    }

    /// The compiled regions of a country code, compiling them on first use; `nil` for a code no
    /// region has. Two threads may compile the same code at once; one result wins.
    private func country(_ code: Int) -> CompiledCountry? {
        if let compiled = compiledByCode[code].load() { return compiled }
        guard !metadataByCode[code].isEmpty else { return nil }
        return compiledByCode[code].storeIfNilThenLoad(CompiledCountry(metadataByCode[code]))
    }

    /// The number formats of a country code's main region, compiled on first use; `nil` for a
    /// code no region has, or a plan without formats.
    func formats(forCountryCode code: Int) -> CompiledFormats? {
        guard (1...999).contains(code) else { return nil }
        return country(code)?.formats
    }

    /// A two-letter region (any case) and its country code's compiled regions, compiling them on
    /// first use; `nil` for a region libphonenumber does not know.
    private func compiled(region id: String) -> (country: CompiledCountry, region: CompiledRegion)? {
        guard let (code, position) = regionsByID[id] ?? regionsByID[id.uppercased()], let country = country(code) else {
            return nil
        }
        return (country, country.regions[position])
    }

    /// Compiles every country code now and lists the parts of the metadata that could not be
    /// compiled (inputs that need them are left to libphonenumber).
    public func compileAll() -> [String] {
        (1..<1000).flatMap { code in
            country(code)?.regions.flatMap { region in
                region.uncompiledParts.map { "\(region.id) +\(region.countryCode) \($0)" }
            } ?? []
        }
    }

    /// libphonenumber's verdict on `text` read with `defaultRegion` (numbers written without `+`),
    /// or `nil` when the plan does not cover the input and libphonenumber has to answer.
    public func verdict(for text: String, defaultRegion: String?) -> PhoneNumberVerdict? {
        var text = text
        return text.withUTF8 { verdict(utf8: $0, defaultRegion: defaultRegion) }
    }

    /// `verdict(for:defaultRegion:)` for any string type.
    public func verdict(for text: some StringProtocol, defaultRegion: String?) -> PhoneNumberVerdict? {
        if let result = text.utf8.withContiguousStorageIfAvailable({ verdict(utf8: $0, defaultRegion: defaultRegion) }) {
            return result
        }
        return Array(text.utf8).withUnsafeBufferPointer { verdict(utf8: $0, defaultRegion: defaultRegion) }
    }

    /// The longest input libphonenumber parses (`kMaxInputStringLength`).
    private static let maximumInputLength = 250

    private func verdict(utf8: UnsafeBufferPointer<UInt8>, defaultRegion: String?) -> PhoneNumberVerdict? {
        guard utf8.count <= Self.maximumInputLength else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maximumInputLength) { buffer in
            guard let (count, hasPlus) = Self.digits(of: utf8, into: buffer), count >= 3 else { return nil }
            let digits = UnsafeBufferPointer(rebasing: buffer[..<count])
            if hasPlus { return internationalVerdict(digits) }
            guard let defaultRegion, let (country, region) = compiled(region: defaultRegion) else { return nil }
            return nationalVerdict(digits, in: country, region: region)
        }
    }

    /// Collects the digits (as 0–9) of a text made only of digits, separators libphonenumber treats
    /// as punctuation, and at most one `+` before the first digit; `nil` for any other text.
    private static func digits(
        of utf8: UnsafeBufferPointer<UInt8>, into buffer: UnsafeMutableBufferPointer<UInt8>
    ) -> (count: Int, hasPlus: Bool)? {
        var count = 0
        var hasPlus = false
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            index += 1
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                buffer[count] = byte &- UInt8(ascii: "0")
                count += 1
            case UInt8(ascii: "+"):
                guard !hasPlus, count == 0 else { return nil }
                hasPlus = true
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"),
                UInt8(ascii: "/"):
                continue
            case 0xC2:
                // U+00A0 no-break space.
                guard index < utf8.count, utf8[index] == 0xA0 else { return nil }
                index += 1
            case 0xE2:
                // U+2010 to U+2013: hyphen, non-breaking hyphen, figure dash, en dash.
                guard index + 1 < utf8.count, utf8[index] == 0x80, (0x90...0x93).contains(utf8[index + 1]) else {
                    return nil
                }
                index += 2
            default:
                return nil
            }
        }
        return (count, hasPlus)
    }

    /// `+` and digits: the country code is read from the digits (`ExtractCountryCode`).
    private func internationalVerdict(_ digits: UnsafeBufferPointer<UInt8>) -> PhoneNumberVerdict? {
        guard digits[0] != 0 else { return nil }
        var code = 0
        for length in 1...3 {
            code = code * 10 + Int(digits[length - 1])
            if let country = country(code) {
                return verdict(
                    nationalNumber: UnsafeBufferPointer(rebasing: digits[length...]), in: country,
                    parsingRegion: country.regions[0])
            }
        }
        return nil
    }

    /// Digits without `+`, read in `region`: after the region's international prefix they are an
    /// international number; digits that start with the region's own country code are left to
    /// libphonenumber, which tries both readings.
    private func nationalVerdict(
        _ digits: UnsafeBufferPointer<UInt8>, in country: CompiledCountry, region: CompiledRegion
    ) -> PhoneNumberVerdict? {
        guard case .automaton(let international) = region.internationalPrefix else { return nil }
        let idd = international.prefixMatches(digits)
        if idd.any {
            // `ParsePrefixAsIdd`: one way to read an international prefix, followed by a digit
            // other than 0, makes the rest an international number (`00420…` dialled in Germany).
            guard !idd.empty, idd.nonEmptyCount == 1, digits.count - idd.shortestNonEmpty >= 3,
                digits[idd.shortestNonEmpty] != 0
            else { return nil }
            return internationalVerdict(UnsafeBufferPointer(rebasing: digits[idd.shortestNonEmpty...]))
        }
        let codeDigits = region.countryCodeDigits
        if digits.count >= codeDigits.count, zip(digits, codeDigits).allSatisfy({ $0 == $1 }) {
            return leadingCountryCodeVerdict(digits, in: country, region: region)
        }
        return verdict(nationalNumber: digits, in: country, parsingRegion: region)
    }

    /// `MaybeExtractCountryCode` for digits that begin with the region's own country code: they
    /// are read as that code and a national number when the whole does not match the region's
    /// general pattern but the rest (after any national prefix) does, or when the whole is too
    /// long for the region; else as a national number.
    private func leadingCountryCodeVerdict(
        _ digits: UnsafeBufferPointer<UInt8>, in country: CompiledCountry, region: CompiledRegion
    ) -> PhoneNumberVerdict? {
        let rest = UnsafeBufferPointer(rebasing: digits[region.countryCodeDigits.count...])
        guard let potential = region.parsingRule.map({ $0.strip(Array(rest)) ?? Array(rest) }) ?? Array(rest) as [UInt8]?,
              let whole = region.matchesGeneralPattern(digits) ?? region.parsingRule?.matchesGeneral(Array(digits)),
              let length = region.lengthVerdict(digits.count)
        else { return nil }
        let strippedMatches = potential.withUnsafeBufferPointer { region.matchesGeneralPattern($0) } ?? region.parsingRule?.matchesGeneral(potential) ?? false
        guard (!whole && strippedMatches) || length == .tooLong else {
            return verdict(nationalNumber: digits, in: country, parsingRegion: region)
        }
        return potential.withUnsafeBufferPointer { verdict(nationalNumber: $0, in: country, parsingRegion: country.regions[0]) }
    }

    /// `MaybeExtractCountryCode`'s choice for digits written without `+` or an IDD prefix that begin
    /// with `region`'s own country code (`420222333444` in Czechia, `358759533` on Åland): `true`
    /// when `Parse` reads them as that code followed by a national number, `false` when it reads
    /// them whole as a national number, `nil` when the plan cannot tell. libphonenumber strips the
    /// code when the whole does not match the region's general pattern but the rest (after any
    /// national prefix) does, or when the whole is too long for the region.
    public func readsLeadingCountryCode(_ digits: UnsafeBufferPointer<UInt8>, region: String) -> Bool? {
        guard let (_, compiled) = compiled(region: region) else { return nil }
        let codeDigits = compiled.countryCodeDigits
        guard digits.count > codeDigits.count, zip(digits, codeDigits).allSatisfy({ $0 == $1 }) else { return false }
        guard let rest = stripNationalPrefix(UnsafeBufferPointer(rebasing: digits[codeDigits.count...]), region: compiled),
            let whole = compiled.matchesGeneralPattern(digits), let stripped = compiled.matchesGeneralPattern(rest),
            let length = compiled.lengthVerdict(digits.count)
        else { return nil }
        return (!whole && stripped) || length == .tooLong
    }

    /// Whether `region`'s national prefix for parsing may match at the start of `digits` (what
    /// `MaybeStripNationalPrefixAndCarrierCode` looks for); `true` when the plan cannot tell.
    public func nationalPrefixMayApply(_ digits: UnsafeBufferPointer<UInt8>, region: String) -> Bool {
        guard let (_, compiled) = compiled(region: region) else { return true }
        switch compiled.nationalPrefixForParsing {
        case .absent: return false
        case .unsupported: return true
        case .automaton(let prefix): return prefix.prefixMatches(digits).any
        }
    }

    /// The rest of `Parse` (national prefix, lengths) and the validity, type and region of the number.
    private func verdict(
        nationalNumber digits: UnsafeBufferPointer<UInt8>, in country: CompiledCountry, parsingRegion parsing: CompiledRegion
    ) -> PhoneNumberVerdict? {
        if let national = stripNationalPrefix(digits, region: parsing) {
            return verdict(national: national, in: country)
        }
        // A prefix the automata cannot decide (capturing groups, a transform rule, several
        // readings): libphonenumber's steps by regular expressions, on this rare path only.
        guard let rule = parsing.parsingRule else { return nil }
        var national = Array(digits)
        if let stripped = rule.strip(national), let length = parsing.lengthVerdict(stripped.count) {
            switch length {
            case .tooShort, .localOnly, .invalidLength: break
            case .possible, .tooLong: national = stripped
            }
        } else if rule.strip(national) != nil {
            return nil
        }
        return national.withUnsafeBufferPointer { verdict(national: $0, in: country) }
    }

    /// Validity, type and region of a national significant number of `country`.
    private func verdict(national: UnsafeBufferPointer<UInt8>, in country: CompiledCountry) -> PhoneNumberVerdict? {
        guard national.count >= 2, national.count <= 17 else { return nil }
        let candidates = country.regions
        let main = candidates[0]
        let countryCode = main.countryCode

        let codeDigits = main.countryCodeDigits.count
        var raw: UInt64 = 0
        if codeDigits + national.count <= 19 {
            raw = UInt64(countryCode)
            for digit in national { raw = raw &* 10 &+ UInt64(digit) }
        }
        let parsed = PhoneNumber(rawValue: raw)

        // GetRegionCodeForNumber, then IsValidNumberForRegion and GetNumberType.
        var numberRegion: CompiledRegion?
        if candidates.count == 1 {
            numberRegion = main
        } else {
            for region in candidates {
                switch region.leadingDigits {
                case .automaton(let leading):
                    if leading.prefixMatches(national).any { numberRegion = region }
                case .unsupported:
                    return nil
                case .absent:
                    guard let type = region.numberType(national) else { return nil }
                    if type != .unknown { numberRegion = region }
                }
                if numberRegion != nil { break }
            }
        }
        if let region = numberRegion, let number = parsed {
            guard let type = region.numberType(national) else { return nil }
            if type != .unknown {
                return .valid(ValidPhoneNumber(number: number, countryCode: countryCode, type: type, region: region.id))
            }
        }
        guard let possibility = main.lengthVerdict(national.count) else { return nil }
        let reason: InvalidPhoneNumberReason =
            switch possibility {
            case .tooShort: .tooShort
            case .invalidLength: .invalidLength
            case .tooLong: .tooLong
            case .possible, .localOnly: .invalidForRegion
            }
        return .invalid(reason, parsed: parsed)
    }

    /// `MaybeStripNationalPrefixAndCarrierCode` as `Parse` applies it: the national number after
    /// a national prefix is removed, unchanged when none applies, `nil` when only libphonenumber
    /// can tell (a prefix with capturing groups or anchors, or more than one way to match).
    private func stripNationalPrefix(
        _ digits: UnsafeBufferPointer<UInt8>, region: CompiledRegion
    ) -> UnsafeBufferPointer<UInt8>? {
        switch region.nationalPrefixForParsing {
        case .absent:
            return digits
        case .unsupported:
            return nil
        case .automaton(let prefix):
            let matches = prefix.prefixMatches(digits)
            guard matches.nonEmptyCount > 0 else { return digits }
            guard matches.nonEmptyCount == 1, !matches.empty, prefix.capturingGroups[0] == 0 else { return nil }
            let stripped = UnsafeBufferPointer(rebasing: digits[matches.shortestNonEmpty...])
            // A number the general pattern accepts keeps its digits if stripping would break it.
            guard let original = region.matchesGeneralPattern(digits),
                let after = region.matchesGeneralPattern(stripped)
            else { return nil }
            if original && !after { return digits }
            // The remainder must still be long enough for the region, or the digits stay.
            guard let length = region.lengthVerdict(stripped.count) else { return nil }
            switch length {
            case .tooShort, .localOnly, .invalidLength: return digits
            case .possible, .tooLong: return stripped
            }
        }
    }
}

/// `IsPossibleNumberWithReason`'s answers, as `TestNumberLength` computes them.
enum LengthVerdict {
    case possible, localOnly, tooShort, invalidLength, tooLong
}

/// A part of a region's metadata: absent, compiled, or left to libphonenumber.
enum CompiledPattern: Sendable {
    case absent
    case automaton(DigitAutomaton)
    case unsupported

    init(_ pattern: String?, treatEmptyAsAbsent: Bool = true) {
        guard let pattern else {
            self = .absent
            return
        }
        if pattern.isEmpty {
            self = treatEmptyAsAbsent ? .absent : .unsupported
            return
        }
        self = DigitAutomaton(patterns: [pattern]).map { .automaton($0) } ?? .unsupported
    }

    var isUnsupported: Bool {
        if case .unsupported = self { return true }
        return false
    }
}

/// The compiled regions of one country calling code, the main one first.
final class CompiledCountry: Sendable {
    let regions: [CompiledRegion]
    /// The main region's number formats (`Format` uses the country code's main region).
    let formats: CompiledFormats?

    init(_ metadata: [RegionMetadata]) {
        regions = metadata.map(CompiledRegion.init)
        formats = metadata.first.flatMap(CompiledFormats.init)
    }
}

/// One metadata entry, compiled.
final class CompiledRegion: Sendable {
    let id: String
    let countryCode: Int
    let countryCodeDigits: [UInt8]
    /// The eleven descriptions in `NumberDescriptionKind` order; `nil` when one did not compile.
    let descriptions: DigitAutomaton?
    /// `descriptionsByLength[n]`: the descriptions whose possible lengths allow `n` digits.
    let descriptionsByLength: [UInt16]
    let sameMobileAndFixedLinePattern: Bool
    let leadingDigits: CompiledPattern
    /// Compiled only for parsing national input; an empty prefix (which matches anything) is
    /// left to libphonenumber.
    let internationalPrefix: CompiledPattern
    let nationalPrefixForParsing: CompiledPattern
    let possibleLengths: [Int]
    let localOnlyLengths: [Int]
    /// The national prefix for parsing by regular expressions, for what its automaton leaves undecided.
    let parsingRule: NationalPrefixRule?

    init(_ metadata: RegionMetadata) {
        id = metadata.id
        countryCode = metadata.countryCode
        countryCodeDigits = String(metadata.countryCode).utf8.map { $0 - UInt8(ascii: "0") }
        let kinds = NumberDescriptionKind.allCases
        descriptions = DigitAutomaton(patterns: kinds.map { metadata[$0].pattern })
        descriptionsByLength = (0...17).map { length in
            var mask: UInt16 = 0
            for kind in kinds {
                let lengths = metadata[kind].possibleLengths
                if lengths.isEmpty || lengths.contains(length) { mask |= 1 << UInt16(kind.rawValue) }
            }
            return mask
        }
        sameMobileAndFixedLinePattern = metadata.sameMobileAndFixedLinePattern
        leadingDigits = CompiledPattern(metadata.leadingDigits, treatEmptyAsAbsent: false)
        // Non-geographic entities are never a default region, so their (empty) prefix is not needed.
        internationalPrefix =
            metadata.id == "001" ? .absent : CompiledPattern(metadata.internationalPrefix, treatEmptyAsAbsent: false)
        nationalPrefixForParsing = CompiledPattern(metadata.nationalPrefixForParsing)
        possibleLengths = metadata[.general].possibleLengths
        localOnlyLengths = metadata[.general].localOnlyLengths
        parsingRule = NationalPrefixRule(metadata)
    }

    var uncompiledParts: [String] {
        var parts: [String] = []
        if descriptions == nil { parts.append("number descriptions") }
        if leadingDigits.isUnsupported { parts.append("leading digits") }
        if internationalPrefix.isUnsupported { parts.append("international prefix") }
        if nationalPrefixForParsing.isUnsupported { parts.append("national prefix for parsing") }
        return parts
    }

    /// Whether the general description's pattern alone matches (`nil`: not compiled).
    func matchesGeneralPattern(_ national: UnsafeBufferPointer<UInt8>) -> Bool? {
        guard let descriptions else { return nil }
        return descriptions.fullMatches(national) & 1 != 0
    }

    /// `GetNumberTypeHelper`: `.unknown` when the number is not valid here; `nil`: not compiled.
    func numberType(_ national: UnsafeBufferPointer<UInt8>) -> PhoneNumberType? {
        guard let descriptions else { return nil }
        let lengths = national.count < descriptionsByLength.count ? descriptionsByLength[national.count] : 0
        let matches = descriptions.fullMatches(national) & lengths
        func has(_ kind: NumberDescriptionKind) -> Bool { matches & (1 << UInt16(kind.rawValue)) != 0 }
        guard has(.general) else { return .unknown }
        if has(.premiumRate) { return .premiumRate }
        if has(.tollFree) { return .tollFree }
        if has(.sharedCost) { return .sharedCost }
        if has(.voip) { return .voip }
        if has(.personalNumber) { return .personalNumber }
        if has(.pager) { return .pager }
        if has(.uan) { return .uan }
        if has(.voicemail) { return .voicemail }
        if has(.fixedLine) {
            return sameMobileAndFixedLinePattern || has(.mobile) ? .fixedLineOrMobile : .fixedLine
        }
        if !sameMobileAndFixedLinePattern, has(.mobile) { return .mobile }
        return .unknown
    }

    /// `TestNumberLength` against the general description; `nil` when the metadata has no lengths.
    func lengthVerdict(_ length: Int) -> LengthVerdict? {
        guard let minimum = possibleLengths.first, let maximum = possibleLengths.last else { return nil }
        if minimum == -1 { return .invalidLength }
        if localOnlyLengths.contains(length) { return .localOnly }
        if minimum == length { return .possible }
        if minimum > length { return .tooShort }
        if maximum < length { return .tooLong }
        return possibleLengths.dropFirst().contains(length) ? .possible : .invalidLength
    }
}

/// `MaybeStripNationalPrefixAndCarrierCode` by regular expressions, exactly as libphonenumber
/// states it: the national prefix for parsing must match at the start; with a transform rule and
/// a last capturing group that matched, the match is replaced by the rule (`9$1`), else removed;
/// a number the general pattern accepted must still be accepted after. Only for the prefixes the
/// automata leave undecided, so its cost (microseconds) is paid by few inputs.
final class NationalPrefixRule: @unchecked Sendable {
    // NSRegularExpression is immutable and safe to use from several threads.
    private let prefix: NSRegularExpression
    private let transform: String
    private let general: NSRegularExpression?

    init?(_ metadata: RegionMetadata) {
        guard !metadata.nationalPrefixForParsing.isEmpty,
              let prefix = try? NSRegularExpression(pattern: metadata.nationalPrefixForParsing)
        else { return nil }
        self.prefix = prefix
        transform = metadata.nationalPrefixTransformRule
        let pattern = metadata[.general].pattern
        general = pattern.isEmpty ? nil : try? NSRegularExpression(pattern: "^(?:\(pattern))$")
    }

    private static func text(_ digits: [UInt8]) -> String { String(decoding: digits.map { $0 + UInt8(ascii: "0") }, as: UTF8.self) }

    /// Whether the general description's pattern matches the whole number.
    func matchesGeneral(_ digits: [UInt8]) -> Bool {
        let text = Self.text(digits)
        return general?.firstMatch(in: text, range: NSRange(location: 0, length: text.utf16.count)) != nil
    }

    /// The number after its national prefix (or as the transform rule rewrites it); `nil` when no
    /// prefix applies.
    func strip(_ digits: [UInt8]) -> [UInt8]? {
        let text = Self.text(digits)
        let whole = NSRange(location: 0, length: text.utf16.count)
        guard let match = prefix.firstMatch(in: text, options: .anchored, range: whole) else { return nil }
        let viable = matchesGeneral(digits)
        let groups = match.numberOfRanges - 1
        let rest = String(text.utf8.dropFirst(match.range.length))!
        let result: String
        if transform.isEmpty || groups == 0 || match.range(at: groups).location == NSNotFound {
            result = rest
        } else {
            result = prefix.replacementString(for: match, in: text, offset: 0, template: transform) + rest
        }
        guard result.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        let stripped = result.utf8.map { $0 - UInt8(ascii: "0") }
        if viable && !matchesGeneral(stripped) { return nil }
        return stripped
    }
}

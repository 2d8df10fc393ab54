import CPhoneNumbers

/// The one place phone numbers are validated: the CSV import, REST writes, the validator, the
/// lookup fallback and the CLI all ask this type.
///
/// It answers from `NumberPlan` — libphonenumber's own metadata compiled into digit automata, about
/// a hundred nanoseconds a number — and asks Google libphonenumber itself (about 30 µs, mostly ICU
/// regular expressions) only for inputs the plan does not cover. Both give the same verdict; the
/// differential tests hold them to it. Thread-safe.
public struct PhoneNumberValidator: Sendable {
    private let plan: NumberPlan?

    /// A validator that uses the compiled plan (`usingNumberPlan: true`, the default) or
    /// libphonenumber alone (the oracle the plan is measured against).
    public init(usingNumberPlan: Bool = true) {
        cpn_initialize()
        plan = usingNumberPlan ? NumberPlan.installed : nil
    }

    /// A validator answering from `plan` (`NumberPlan.library`: the C++ library's own metadata,
    /// for the differential against it).
    public init(plan: NumberPlan) {
        cpn_initialize()
        self.plan = plan
    }

    /// libphonenumber's verdict on `text`, read with `defaultRegion` (two letters) for numbers
    /// written without `+`; `nil` accepts only international numbers.
    @inlinable
    public func validate(_ text: some StringProtocol, defaultRegion: String? = nil) -> PhoneNumberVerdict {
        validate(string: String(text), defaultRegion: defaultRegion)
    }

    @usableFromInline
    func validate(string text: String, defaultRegion: String?) -> PhoneNumberVerdict {
        if let plan, let verdict = plan.verdict(for: text, defaultRegion: defaultRegion) { return verdict }
        return libphonenumberVerdict(text, defaultRegion: defaultRegion)
    }

    /// libphonenumber's own answer, without the compiled plan.
    public func libphonenumberVerdict(_ text: some StringProtocol, defaultRegion: String? = nil) -> PhoneNumberVerdict {
        Self.verdict(Self.analysis(String(text), defaultRegion: defaultRegion))
    }

    /// What libphonenumber's `Parse`, `IsValidNumber`, `GetNumberType`, `GetRegionCodeForNumber` and
    /// `IsPossibleNumberWithReason` say of `text`, unmapped (the E.164 form as text, whatever its
    /// length): the oracle the differential tests compare every answer with.
    static func analysis(_ string: String, defaultRegion: String?) -> cpn_analysis {
        var analysis = cpn_analysis()
        let region = defaultRegion?.uppercased() ?? "ZZ"
        string.withCString { pointer in
            // The byte count, not strlen: an embedded NUL must reach the shim, which refuses it.
            _ = cpn_analyze(pointer, string.utf8.count, region, &analysis)
        }
        return analysis
    }

    /// The rule of the import contract: the number must be in international form — `+`
    /// and the country code, with spaces, dashes, dots, slashes and parentheses tolerated — and
    /// valid by libphonenumber.
    @inlinable
    public func validateInternational(_ text: some StringProtocol) -> PhoneNumberVerdict {
        validateInternational(string: String(text))
    }

    @usableFromInline
    func validateInternational(string text: String) -> PhoneNumberVerdict {
        // The plan covers only `+` forms made of characters this rule accepts, so it may go first.
        if let plan, let verdict = plan.verdict(for: text, defaultRegion: nil) { return verdict }
        var sawPlus = false
        var sawDigit = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "0"..."9":
                sawDigit = true
            case "+" where !sawPlus && !sawDigit:
                sawPlus = true
            case " ", "-", ".", "(", ")", "/", "\u{A0}", "\u{2007}", "\u{202F}", "\t",
                "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}":
                continue
            default:
                return .invalid(.notANumber, parsed: nil)
            }
        }
        guard sawDigit else { return .invalid(.notANumber, parsed: nil) }
        guard sawPlus else { return .invalid(.notInternational, parsed: nil) }
        return libphonenumberVerdict(text, defaultRegion: nil)
    }

    /// Formats a number; `nil` only if libphonenumber cannot read it back.
    public func format(_ number: PhoneNumber, as format: PhoneNumberFormat) -> String? {
        // The plan's own formats when it has them: numbers are written as its release writes them.
        switch format {
        case .e164: return number.e164
        case .national, .international:
            if let written = (plan ?? NumberPlan.installed).format(number, national: format == .national) { return written }
        case .rfc3966: break
        }
        return libraryFormat(number, as: format)
    }

    /// libphonenumber's C++ `Format` (by its own compiled-in metadata).
    public func libraryFormat(_ number: PhoneNumber, as format: PhoneNumberFormat) -> String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let length = cpn_format(number.rawValue, format.rawValue, buffer.baseAddress, buffer.count)
            guard length >= 0 else { return nil }
            return String(cString: buffer.baseAddress!)
        }
    }

    /// The country calling code of a region (`CZ` → 420), `nil` for an unknown region.
    public func countryCode(forRegion region: String) -> Int? {
        let code = cpn_country_code_for_region(region.uppercased())
        return code > 0 ? Int(code) : nil
    }

    static func verdict(_ analysis: cpn_analysis) -> PhoneNumberVerdict {
        switch analysis.parse_error {
        case 0: break
        case 1: return .invalid(.invalidCountryCode, parsed: nil)
        case 3, 4: return .invalid(.tooShort, parsed: nil)
        case 5: return .invalid(.tooLong, parsed: nil)
        default: return .invalid(.notANumber, parsed: nil)
        }
        let parsed = PhoneNumber(rawValue: analysis.e164)
        guard analysis.valid == 1, let number = parsed else {
            let reason: InvalidPhoneNumberReason =
                switch analysis.possibility {
                case 2: .invalidCountryCode
                case 3: .tooShort
                case 4: .invalidLength
                case 5: .tooLong
                default: .invalidForRegion
                }
            return .invalid(reason, parsed: parsed)
        }
        let region = withUnsafeBytes(of: analysis.region) { bytes in
            String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return .valid(
            ValidPhoneNumber(
                number: number,
                countryCode: Int(analysis.country_code),
                type: PhoneNumberType(rawValue: analysis.type) ?? .unknown,
                region: region
            ))
    }
}

extension PhoneNumberValidator {
    /// libphonenumber's example number of `type` for `region`, if it has one (for tests and demos).
    public func exampleNumber(region: String, type: PhoneNumberType) -> PhoneNumber? {
        let kind: NumberDescriptionKind? = switch type {
        case .fixedLine, .fixedLineOrMobile: .fixedLine
        case .mobile: .mobile
        case .tollFree: .tollFree
        case .premiumRate: .premiumRate
        case .sharedCost: .sharedCost
        case .voip: .voip
        case .personalNumber: .personalNumber
        case .pager: .pager
        case .uan: .uan
        case .voicemail: .voicemail
        case .unknown: nil
        }
        guard let kind, let entry = RegionMetadata.installed.first(where: { $0.id == region.uppercased() }),
              !entry[kind].exampleNumber.isEmpty
        else { return nil }
        return PhoneNumber(e164: "+\(entry.countryCode)\(entry[kind].exampleNumber)")
    }
}

extension PhoneNumberValidator {
    /// Every example number in libphonenumber's metadata — each region's and each non-geographic
    /// entity's, for every number type it describes — as `+CC NATIONAL`, with the region the
    /// example belongs to. For tests, benchmarks and demos.
    public static var exampleNumbers: [(text: String, region: String)] { exampleNumbers(of: RegionMetadata.installed) }

    /// The C++ library's own example numbers (its metadata's), for the differential against it.
    public static var libraryExampleNumbers: [(text: String, region: String)] { exampleNumbers(of: RegionMetadata.library) }

    static func exampleNumbers(of entries: [RegionMetadata]) -> [(text: String, region: String)] {
        entries.flatMap { metadata in
            Set(metadata.descriptions.map(\.exampleNumber)).filter { !$0.isEmpty }.sorted().map {
                (text: "+\(metadata.countryCode) \($0)", region: metadata.id)
            }
        }
    }
}

/// An incoming caller number as a PBX sends it, cleaned of URI syntax: `tel:+420-222-333-444`,
/// `sip:+420222333444@pbx.example;user=phone`, `+420 222 333 444`, `00420…`, `0222…`.
public struct CallerNumber: Hashable, Sendable {
    /// The text without a `tel:`/`sip:`/`sips:` scheme, URI parameters or host.
    public let text: String
    /// The ASCII digits of `text`, in order (separators dropped).
    public let digits: [UInt8]
    /// Whether the number was written with a leading `+` (or `++`).
    public let hasPlus: Bool

    public init(_ raw: some StringProtocol) {
        var text = Substring(raw).trimmingCharacters(while: \.isWhitespace)
        let lowered = text.lowercased()
        for scheme in ["tel:", "sips:", "sip:"] where lowered.hasPrefix(scheme) {
            text = text.dropFirst(scheme.count)
            if let end = text.firstIndex(where: { $0 == ";" || $0 == "@" || $0 == "?" }) { text = text[..<end] }
            break
        }
        // `%2B` is a URL-encoded plus, as some CTI clients send it.
        var cleaned = String(text)
        if cleaned.hasPrefix("%2B") || cleaned.hasPrefix("%2b") { cleaned = "+" + cleaned.dropFirst(3) }
        self.text = cleaned
        var digits: [UInt8] = []
        var hasPlus = false
        for byte in cleaned.utf8 {
            if byte &- UInt8(ascii: "0") < 10 {
                digits.append(byte &- UInt8(ascii: "0"))
            } else if byte == UInt8(ascii: "+"), digits.isEmpty {
                hasPlus = true
            }
        }
        self.digits = digits
        self.hasPlus = hasPlus
    }

    /// The last `count` digits as an integer key for the suffix match, or `nil` when the number has
    /// fewer digits.
    public func suffixKey(_ count: Int) -> UInt64? {
        Self.suffixKey(of: digits[...], count: count)
    }

    /// The last `count` digits of `digits` as an integer (leading zeros kept distinct by a leading 1).
    public static func suffixKey(of digits: ArraySlice<UInt8>, count: Int) -> UInt64? {
        guard count > 0, count <= 18, digits.count >= count else { return nil }
        var key: UInt64 = 1
        for digit in digits.suffix(count) { key = key * 10 + UInt64(digit) }
        return key
    }

    /// The suffix key of a stored number: the last `count` digits of its E.164 form.
    public static func suffixKey(of number: PhoneNumber, count: Int) -> UInt64? {
        guard number.digitCount >= count else { return nil }
        var power: UInt64 = 1
        for _ in 0..<count { power *= 10 }
        return power + number.rawValue % power
    }
}

extension Substring {
    fileprivate func trimmingCharacters(while predicate: (Character) -> Bool) -> Substring {
        var result = self
        while let first = result.first, predicate(first) { result = result.dropFirst() }
        while let last = result.last, predicate(last) { result = result.dropLast() }
        return result
    }
}

extension PhoneNumberValidator {
    /// The E.164 numbers an incoming caller number may stand for, best first, read as libphonenumber
    /// reads them with the organization's default region: the number as dialled (`+…`, `00…`, trunk prefix,
    /// national digits), then the digits as an international number without its `+`
    /// (`420222333444`). Valid readings come first; when none is valid, the parsed but invalid ones
    /// are still returned, so a stored number libphonenumber has since come to doubt is still found.
    ///
    /// This is the exact path (the compiled plan where it covers the text, else libphonenumber at
    /// about 30 µs); the lookup index uses it as its fallback.
    public func candidates(for caller: CallerNumber, defaultRegion: String) -> [PhoneNumber] {
        guard !caller.digits.isEmpty, caller.digits.count <= 20 else { return [] }
        var valid: [PhoneNumber] = []
        var possible: [PhoneNumber] = []
        func consider(_ verdict: PhoneNumberVerdict) {
            switch verdict {
            case .valid(let number):
                // Stored numbers are in the form their own E.164 validates to. A few national
                // readings are not (in Mexico `01 144 140 967 74` reads as `+5214414096774`, which
                // validates as `+524414096774`): look for that form first, then the reading itself.
                let stored = validateInternational(number.number.e164).validNumber?.number ?? number.number
                for reading in [stored, number.number] where !valid.contains(reading) { valid.append(reading) }
            case .invalid(_, let parsed?) where !possible.contains(parsed): possible.append(parsed)
            default: break
            }
        }
        consider(validate(caller.text, defaultRegion: defaultRegion))
        if !caller.hasPlus, caller.digits.first != 0 {
            consider(validate("+" + String(decoding: caller.digits.map { $0 + UInt8(ascii: "0") }, as: UTF8.self)))
        }
        return valid + possible.filter { !valid.contains($0) }
    }
}

/// Turns a caller's number as a PBX sends it into candidate E.164 numbers without calling
/// libphonenumber's parser: one pass over the UTF-8 bytes, no allocation, using the region's dialling
/// facts (country code, IDD prefixes, trunk prefixes) from `DialingPlan`.
///
/// Handles `+`/`++`, the region's IDD prefixes (`00`, `011`, …), a country code written without `+`,
/// the trunk prefix (`0`, `8`, …), `(0)`, `tel:`/`sip:` URIs with parameters, `%2B`, and any
/// separators. It does not decide validity: it lists what the number may be, best first, and the
/// lookup index tries each (a miss costs one table probe). libphonenumber's full parse stays the
/// fallback for whatever this does not find.
///
/// Performance: about as long as reading the text once (tens of nanoseconds).
public struct CallerNumberNormalizer: Sendable {
    public let facts: DialingFacts

    public init?(region: String, plan: DialingPlan = .installed) {
        guard let facts = plan[region] else { return nil }
        self.facts = facts
        numberPlan = plan.numberPlan
    }

    private let numberPlan: NumberPlan

    /// The most digits a caller's number is read with; longer texts are not phone numbers.
    static let maximumDigits = 24

    public func normalize(_ text: String) -> NormalizedCaller {
        var text = text
        return text.withUTF8 { normalize(utf8: $0) }
    }

    public func normalize(utf8 bytes: UnsafeBufferPointer<UInt8>) -> NormalizedCaller {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maximumDigits) { digits in
            var count = 0
            var plus = false
            var tooLong = false
            var index = 0
            let end = bytes.count
            while index < end, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
            var isURI = false
            if let skip = Self.schemeLength(bytes, at: index) {
                index += skip
                isURI = true
            }
            if index + 2 < end, bytes[index] == UInt8(ascii: "%"), bytes[index + 1] == UInt8(ascii: "2"),
                bytes[index + 2] | 0x20 == UInt8(ascii: "b")
            {
                plus = true
                index += 3
            }
            scan: while index < end {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if count < Self.maximumDigits {
                        digits[count] = byte &- UInt8(ascii: "0")
                        count += 1
                    } else {
                        tooLong = true
                    }
                case UInt8(ascii: "+"):
                    if count == 0 { plus = true }
                case UInt8(ascii: "("):
                    // "+420 (0) 222…": the trunk prefix shown in brackets is not dialled from abroad.
                    if count > 0, index + 2 < end, bytes[index + 1] == UInt8(ascii: "0"), bytes[index + 2] == UInt8(ascii: ")") {
                        index += 3
                        continue scan
                    }
                case UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "?"), UInt8(ascii: ","):
                    if isURI || count > 0 { break scan }
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                    // An extension ("x12", "ext. 12") or a name: the number ends here.
                    if count > 0 { break scan }
                default:
                    break  // separators: space, -, ., /, ), NBSP bytes, …
                }
                index += 1
            }
            var result = NormalizedCaller()
            result.digitCount = count
            for position in max(0, count - 18)..<count { result.lastDigits = result.lastDigits * 10 + UInt64(digits[position]) }
            guard count > 0, !tooLong else { return result }
            let all = UnsafeBufferPointer(rebasing: digits[0..<count])
            if plus {
                result.append(Self.value(of: [], all))
                return result
            }
            for prefix in facts.internationalPrefixes where Self.hasPrefix(all, prefix) {
                result.append(Self.value(of: [], UnsafeBufferPointer(rebasing: all[prefix.count...])))
                return result
            }
            // Where libphonenumber rewrites a national number after its prefix (a carrier code in
            // Brazil: `90 90 0525 6113` is +55 900 525 6113), no reading of ours is sure to be its:
            // the validator's reading, which is Parse's, decides (`CallerLookup` asks it next).
            if facts.rewritesNationalNumbers, numberPlan.nationalPrefixMayApply(all, region: facts.region) {
                return result
            }
            // Digits that begin with the region's own country code read two ways; both are tried,
            // in the order libphonenumber's `Parse` prefers (the plan's automata decide, no regex).
            if Self.hasPrefix(all, facts.countryCodeDigits),
                numberPlan.readsLeadingCountryCode(all, region: facts.region) == true
            {
                result.append(Self.value(of: [], all))
            }
            for prefix in facts.trunkPrefixes where Self.hasPrefix(all, prefix) {
                result.append(Self.value(of: facts.countryCodeDigits, UnsafeBufferPointer(rebasing: all[prefix.count...])))
                break
            }
            result.append(Self.value(of: facts.countryCodeDigits, all))
            if all[0] != 0 { result.append(Self.value(of: [], all)) }
            return result
        }
    }

    /// The E.164 value of `prefix` followed by `digits`, or 0 when that is not 3 to
    /// `PhoneNumber.maximumDigits` digits
    /// starting with a non-zero digit.
    @inline(__always)
    static func value(of prefix: [UInt8], _ digits: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let total = prefix.count + digits.count
        guard total >= 3, total <= PhoneNumber.maximumDigits else { return 0 }
        var value: UInt64 = 0
        for digit in prefix { value = value * 10 + UInt64(digit) }
        for digit in digits { value = value * 10 + UInt64(digit) }
        guard (prefix.first ?? digits[0]) != 0 else { return 0 }
        return value
    }

    @inline(__always)
    static func hasPrefix(_ digits: UnsafeBufferPointer<UInt8>, _ prefix: [UInt8]) -> Bool {
        guard digits.count > prefix.count else { return false }
        for (offset, digit) in prefix.enumerated() where digits[offset] != digit { return false }
        return true
    }

    /// The length of a leading `tel:`, `sip:` or `sips:` (any case), if present.
    static func schemeLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        func lower(_ offset: Int) -> UInt8 { index + offset < bytes.count ? bytes[index + offset] | 0x20 : 0 }
        if lower(0) == UInt8(ascii: "t"), lower(1) == UInt8(ascii: "e"), lower(2) == UInt8(ascii: "l"),
            index + 3 < bytes.count, bytes[index + 3] == UInt8(ascii: ":")
        {
            return 4
        }
        guard lower(0) == UInt8(ascii: "s"), lower(1) == UInt8(ascii: "i"), lower(2) == UInt8(ascii: "p") else { return nil }
        if index + 3 < bytes.count, bytes[index + 3] == UInt8(ascii: ":") { return 4 }
        if lower(3) == UInt8(ascii: "s"), index + 4 < bytes.count, bytes[index + 4] == UInt8(ascii: ":") { return 5 }
        return nil
    }
}

/// What `CallerNumberNormalizer` read: up to three candidate E.164 numbers, best first, and the
/// trailing digits for the suffix match. A value type of a few words: no allocation.
public struct NormalizedCaller: Hashable, Sendable, Sequence {
    private var value0: UInt64 = 0
    private var value1: UInt64 = 0
    private var value2: UInt64 = 0
    public private(set) var count = 0
    /// How many digits the text had.
    public fileprivate(set) var digitCount = 0
    /// The last (up to 18) digits as an integer.
    public fileprivate(set) var lastDigits: UInt64 = 0

    mutating func append(_ value: UInt64) {
        guard value != 0, value != value0, value != value1, count < 3 else { return }
        switch count {
        case 0: value0 = value
        case 1: value1 = value
        default: value2 = value
        }
        count += 1
    }

    public subscript(position: Int) -> PhoneNumber {
        PhoneNumber(rawValue: position == 0 ? value0 : position == 1 ? value1 : value2)!
    }

    /// The best candidate, if any.
    public var first: PhoneNumber? { count > 0 ? self[0] : nil }

    /// The suffix key of the last `digits` digits (as `CallerNumber.suffixKey`), or `nil` when the
    /// text had fewer digits.
    public func suffixKey(_ digits: Int) -> UInt64? {
        guard digits > 0, digits <= 18, digitCount >= digits else { return nil }
        var power: UInt64 = 1
        for _ in 0..<digits { power *= 10 }
        return power + lastDigits % power
    }

    public struct Iterator: IteratorProtocol {
        let candidates: NormalizedCaller
        var position = 0

        public mutating func next() -> PhoneNumber? {
            guard position < candidates.count else { return nil }
            defer { position += 1 }
            return candidates[position]
        }
    }

    /// A plain struct iterator: iterating the candidates allocates nothing.
    public func makeIterator() -> Iterator { Iterator(candidates: self) }
}

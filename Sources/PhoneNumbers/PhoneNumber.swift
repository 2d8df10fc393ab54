/// A phone number in E.164 form, its digits (country code first, no `+`) packed into one integer.
///
/// The ITU's E.164 caps numbers at 15 digits, but libphonenumber — whose verdict the contract
/// follows — does not: it reads national numbers of up to 17 digits and its metadata calls numbers
/// valid that have up to 19 in E.164 form (`+81` with 17 national digits in Japan, `+49 800` with
/// 11 digits after `800` in Germany, `+234 800` in Nigeria). Every 19-digit integer fits a `UInt64`
/// (below 1.8 × 10¹⁹), so the packing holds every number the installed metadata can call valid —
/// `NumberPlanTests` checks that against the metadata — and only a 20-digit reading
/// (a three-digit country code and 17 national digits, never valid) has no value.
///
/// A number never starts with `0` (country codes do not), so the packing is lossless and two numbers
/// are equal exactly when their E.164 texts are. Eight bytes, no heap: the lookup index keys its
/// tables by `rawValue`.
public struct PhoneNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The E.164 digits as an integer: `+420222333444` is `420_222_333_444`.
    public let rawValue: UInt64

    /// The most digits a number holds: libphonenumber's longest valid numbers have 19.
    public static let maximumDigits = 19

    /// The largest number: 19 nines.
    public static let maximumRawValue: UInt64 = 9_999_999_999_999_999_999

    public init?(rawValue: UInt64) {
        guard rawValue >= 1, rawValue <= Self.maximumRawValue else { return nil }
        self.rawValue = rawValue
    }

    /// Reads `+` followed by 1 to `maximumDigits` digits; nothing else is accepted. This does not
    /// validate.
    public init?(e164 text: some StringProtocol) {
        var utf8 = Substring(text).utf8[...]
        guard utf8.first == UInt8(ascii: "+") else { return nil }
        utf8 = utf8.dropFirst()
        guard !utf8.isEmpty, utf8.count <= Self.maximumDigits, utf8.first != UInt8(ascii: "0") else { return nil }
        var value: UInt64 = 0
        for byte in utf8 {
            guard byte &- UInt8(ascii: "0") < 10 else { return nil }
            value = value * 10 + UInt64(byte &- UInt8(ascii: "0"))
        }
        self.rawValue = value
    }

    /// `+420222333444`.
    public var e164: String { "+" + String(rawValue) }

    public var description: String { e164 }

    /// The number of digits in the E.164 form.
    public var digitCount: Int {
        var count = 1
        var value = rawValue / 10
        while value > 0 {
            count += 1
            value /= 10
        }
        return count
    }

    public static func < (lhs: PhoneNumber, rhs: PhoneNumber) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A phone number in E.164 form, its digits (country code first, no `+`) packed into one integer.
///
/// E.164 numbers have at most 15 digits and never start with `0`, so the packing is lossless and
/// two numbers are equal exactly when their E.164 texts are. Eight bytes, no heap: the lookup index
/// keys its tables by `rawValue`.
public struct PhoneNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The E.164 digits as an integer: `+420222333444` is `420_222_333_444`.
    public let rawValue: UInt64

    /// The largest E.164 number: 15 digits.
    public static let maximumRawValue: UInt64 = 999_999_999_999_999

    public init?(rawValue: UInt64) {
        guard rawValue >= 1, rawValue <= Self.maximumRawValue else { return nil }
        self.rawValue = rawValue
    }

    /// Reads `+` followed by 1 to 15 digits; nothing else is accepted. This does not validate.
    public init?(e164 text: some StringProtocol) {
        var utf8 = Substring(text).utf8[...]
        guard utf8.first == UInt8(ascii: "+") else { return nil }
        utf8 = utf8.dropFirst()
        guard !utf8.isEmpty, utf8.count <= 15, utf8.first != UInt8(ascii: "0") else { return nil }
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

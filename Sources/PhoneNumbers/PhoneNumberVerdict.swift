/// Why libphonenumber does not accept a text as a valid phone number.
public enum InvalidPhoneNumberReason: String, Sendable, Equatable, CaseIterable {
    case notANumber = "not a number"
    case notInternational = "not in international form"
    case invalidCountryCode = "invalid country code"
    case tooShort = "too short"
    case tooLong = "too long"
    case invalidLength = "invalid length"
    case invalidForRegion = "invalid for region"
}

/// The output styles libphonenumber formats to.
public enum PhoneNumberFormat: Int32, Sendable {
    case e164 = 0
    case international = 1
    case national = 2
    case rfc3966 = 3
}

/// A number libphonenumber calls valid, with what it knows about it.
public struct ValidPhoneNumber: Hashable, Sendable {
    public let number: PhoneNumber
    public let countryCode: Int
    public let type: PhoneNumberType
    /// Two letters (`CZ`), or `001` for a non-geographic entity.
    public let region: String
}

/// libphonenumber's verdict on one text.
public enum PhoneNumberVerdict: Hashable, Sendable {
    case valid(ValidPhoneNumber)
    /// `parsed` is the number the text parsed to, when it parsed at all.
    case invalid(InvalidPhoneNumberReason, parsed: PhoneNumber?)

    public var validNumber: ValidPhoneNumber? {
        if case .valid(let number) = self { return number }
        return nil
    }
}

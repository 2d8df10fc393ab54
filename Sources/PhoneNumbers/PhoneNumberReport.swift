/// The validator's answer for one number, as JSON:
/// `{"number","valid","reason","e164","international","national","region","type"}`.
public struct PhoneNumberReport: Hashable, Sendable {
    public let verdict: PhoneNumberVerdict
    public let international: String?
    public let national: String?

    /// The validator route's and `caller-lookup validate`'s report of `text`: read by `region` when
    /// one is given, else it must be international (as in an import without a default region).
    public init(checking text: some StringProtocol, region: String?, validator: PhoneNumberValidator) {
        let verdict = region == nil ? validator.validateInternational(text) : validator.validate(text, defaultRegion: region)
        self.init(verdict: verdict, validator: validator)
    }

    public init(verdict: PhoneNumberVerdict, validator: PhoneNumberValidator) {
        self.verdict = verdict
        if let valid = verdict.validNumber {
            international = validator.format(valid.number, as: .international)
            national = validator.format(valid.number, as: .national)
        } else {
            international = nil
            national = nil
        }
    }

    public var json: String {
        func quoted(_ text: String?) -> String {
            guard let text else { return "null" }
            var result = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": result += "\\\""
                case "\\": result += "\\\\"
                case _ where scalar.value < 0x20: result += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                default: result.unicodeScalars.append(scalar)
                }
            }
            return result + "\""
        }
        switch verdict {
        case .valid(let valid):
            return "{\"valid\":true,\"reason\":null,\"e164\":\(quoted(valid.number.e164)),"
                + "\"international\":\(quoted(international)),\"national\":\(quoted(national)),"
                + "\"region\":\(quoted(valid.region)),\"type\":\(quoted(valid.type.name))}"
        case .invalid(let reason, _):
            return "{\"valid\":false,\"reason\":\(quoted(reason.rawValue)),\"e164\":null,"
                + "\"international\":null,\"national\":null,\"region\":null,\"type\":null}"
        }
    }
}

extension PhoneNumberVerdict {
    /// One line of `caller-lookup validate --batch`:
    /// `{"valid":true,"e164":"+420222333444","type":"FIXED_LINE","region":"CZ","reason":null}`.
    /// Every value is ASCII the verdict itself produced, so nothing needs escaping.
    public var batchJSON: String {
        switch self {
        case .valid(let valid):
            "{\"valid\":true,\"e164\":\"\(valid.number.e164)\",\"type\":\"\(valid.type.name)\",\"region\":\"\(valid.region)\",\"reason\":null}"
        case .invalid(let reason, _):
            "{\"valid\":false,\"e164\":null,\"type\":null,\"region\":null,\"reason\":\"\(reason.rawValue)\"}"
        }
    }

    /// `batchJSON` with a valid number's `national` and `international` forms as `validator`
    /// writes them (digits, spaces, dashes and parentheses: nothing to escape).
    public func batchJSON(formattedBy validator: PhoneNumberValidator) -> String {
        guard case .valid(let valid) = self else { return batchJSON }
        let national = validator.format(valid.number, as: .national) ?? ""
        let international = validator.format(valid.number, as: .international) ?? ""
        return String(batchJSON.dropLast()) + ",\"national\":\"\(national)\",\"international\":\"\(international)\"}"
    }
}

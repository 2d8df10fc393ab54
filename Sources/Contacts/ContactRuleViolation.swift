public import PhoneNumbers

/// One broken rule of the contact rules: which column, which value, which rule, in words a customer can act on.
public struct ContactRuleViolation: Error, Hashable, Sendable {
    public enum Rule: Hashable, Sendable {
        /// `phone1` is empty.
        case required
        /// `firstName`, `lastName` and `organization` are all empty.
        case missingName
        case tooLong(maxLength: Int, length: Int)
        case invalidPhoneNumber(InvalidPhoneNumberReason)
        case invalidEmail
        case invalidURI
        /// The same `externalId` appears on an earlier line of the file (or belongs to another contact).
        case duplicateExternalId(firstLine: Int?)
        case wrongValueCount(expected: Int, found: Int)
        case malformedQuotes(String)
        /// The row is over the reader's bounds (`CSVReader.Limits`): too many values or bytes.
        case rowTooLarge(String)
    }

    /// The column, or `nil` for a rule about the whole row.
    public let field: ContactField?
    /// The offending value, as given (before trimming it is what the customer wrote).
    public let value: String
    public let rule: Rule

    public init(field: ContactField?, value: String, rule: Rule) {
        self.field = field
        self.value = value
        self.rule = rule
    }

    /// The contract's wording, e.g. `Column phone1: '+42022233' is not a valid phone number.`
    public var message: String {
        let shown = Self.quoted(value)
        let column = field.map { "Column \($0.rawValue): " } ?? ""
        switch rule {
        case .required:
            return "\(column)a value is required."
        case .missingName:
            return "Columns firstName, lastName, organization: all are empty; at least one is required."
        case .tooLong(let maxLength, let length):
            return "\(column)\(shown) is \(length) characters long; the maximum is \(maxLength)."
        case .invalidPhoneNumber:
            return "\(column)\(shown) is not a valid phone number."
        case .invalidEmail:
            return "\(column)\(shown) is not a valid email address."
        case .invalidURI:
            return "\(column)\(shown) is not an absolute http or https URI."
        case .duplicateExternalId(let firstLine?):
            return "\(column)\(shown) is a duplicate of the externalId on line \(firstLine)."
        case .duplicateExternalId(nil):
            return "\(column)\(shown) already belongs to another contact."
        case .wrongValueCount(let expected, let found):
            return "The row has \(found) values but the header has \(expected) columns."
        case .malformedQuotes(let detail), .rowTooLarge(let detail):
            return "\(detail)"
        }
    }

    /// A short machine-readable name of the rule, for the structured `errors` array.
    public var ruleName: String {
        switch rule {
        case .required: "required"
        case .missingName: "name-required"
        case .tooLong: "too-long"
        case .invalidPhoneNumber(let reason): "invalid-phone-number: \(reason.rawValue)"
        case .invalidEmail: "invalid-email"
        case .invalidURI: "invalid-uri"
        case .duplicateExternalId: "duplicate-external-id"
        case .wrongValueCount: "wrong-value-count"
        case .malformedQuotes: "malformed-quotes"
        case .rowTooLarge: "row-too-large"
        }
    }

    /// `'value'`, with control characters escaped so one error stays on one line, and cut after
    /// 100 characters.
    static func quoted(_ value: String) -> String {
        var result = "'"
        var count = 0
        for scalar in value.unicodeScalars {
            if count == 100 {
                result += "…"
                break
            }
            count += 1
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "'"
    }
}

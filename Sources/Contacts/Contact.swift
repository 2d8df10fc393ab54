public import PhoneNumbers

/// A contact that satisfies every contact rule (docs/contract.md).
///
/// Values are kept trimmed, one per `ContactField` in `ContactField.allCases` order; an empty string
/// means "not set". Phone fields hold the E.164 form (`+420222333444`). The only ways to get one are
/// `Contact.validate(_:validator:)` and `Contact(trustedValues:)` for data that was validated before
/// (the store's own rows).
public struct Contact: Hashable, Sendable {
    public private(set) var values: [String]
    public let phone1: PhoneNumber
    public let phone2: PhoneNumber?

    /// Rebuilds a contact from values the store validated earlier; `nil` if they are not well-formed.
    public init?(trustedValues values: [String]) {
        guard values.count == ContactField.allCases.count,
            let phone1 = PhoneNumber(e164: values[ContactField.phone1.index])
        else { return nil }
        let phone2Text = values[ContactField.phone2.index]
        let phone2 = PhoneNumber(e164: phone2Text)
        guard phone2Text.isEmpty || phone2 != nil else { return nil }
        self.values = values
        self.phone1 = phone1
        self.phone2 = phone2
    }

    /// Checks every contact rule on raw values (untrimmed, as read from CSV or JSON) and returns
    /// the contact, or every rule the values break.
    public static func validate(
        _ draft: [ContactField: String],
        validator: PhoneNumberValidator
    ) -> Result<Contact, ContactRuleViolations> {
        validate(fields: draft.map { ($0.key, $0.value) }, validator: validator)
    }

    /// `validate(_:validator:)` over field–value pairs, each field at most once (a CSV row's
    /// columns): no dictionary to build per row.
    ///
    /// With a `region`, a phone number written without `+` is read as dialled there (`601 234 567`,
    /// `00420 601 234 567` in `CZ`) and stored in E.164; without one, numbers must be international.
    public static func validate(
        fields: some Sequence<(ContactField, String)>,
        validator: PhoneNumberValidator,
        region: String? = nil
    ) -> Result<Contact, ContactRuleViolations> {
        var values = [String](repeating: "", count: ContactField.allCases.count)
        var violations: [ContactRuleViolation] = []
        var phones: [ContactField: PhoneNumber] = [:]
        for (field, raw) in fields {
            let value = raw.trimmingWhitespace()
            guard !value.isEmpty else { continue }
            // A value of at most maxLength bytes has at most maxLength scalars: count only longer ones.
            if value.utf8.count > field.maxLength, case let length = value.unicodeScalars.count, length > field.maxLength {
                violations.append(.init(field: field, value: value, rule: .tooLong(maxLength: field.maxLength, length: length)))
                continue
            }
            switch field.kind {
            case .text:
                values[field.index] = value
            case .email:
                if EmailAddress.isValid(value) {
                    values[field.index] = value
                } else {
                    violations.append(.init(field: field, value: value, rule: .invalidEmail))
                }
            case .uri:
                if WebURI.isAbsoluteHTTP(value) {
                    values[field.index] = value
                } else {
                    violations.append(.init(field: field, value: value, rule: .invalidURI))
                }
            case .phone:
                let verdict = if let region, !value.hasPrefix("+") {
                    validator.validate(value, defaultRegion: region)
                } else {
                    validator.validateInternational(value)
                }
                switch verdict {
                case .valid(let valid):
                    phones[field] = valid.number
                    values[field.index] = valid.number.e164
                case .invalid(let reason, _):
                    violations.append(.init(field: field, value: value, rule: .invalidPhoneNumber(reason)))
                }
            }
        }
        // A value that broke a rule was still given: only absent values count as missing here.
        let given = { (field: ContactField) in
            !values[field.index].isEmpty || violations.contains { $0.field == field }
        }
        if !ContactField.namingFields.contains(where: given) {
            violations.append(.init(field: nil, value: "", rule: .missingName))
        }
        if !given(.phone1) {
            violations.append(.init(field: .phone1, value: "", rule: .required))
        }
        guard violations.isEmpty, let phone1 = phones[.phone1] else {
            violations.sort { ($0.field?.index ?? -1) < ($1.field?.index ?? -1) }
            return .failure(ContactRuleViolations(violations))
        }
        return .success(Contact(values: values, phone1: phone1, phone2: phones[.phone2]))
    }

    private init(values: [String], phone1: PhoneNumber, phone2: PhoneNumber?) {
        self.values = values
        self.phone1 = phone1
        self.phone2 = phone2
    }

    public subscript(field: ContactField) -> String {
        values[field.index]
    }

    /// The contact's values as a draft, for PATCH-style edits that are validated again.
    public var draft: [ContactField: String] {
        var draft: [ContactField: String] = [:]
        for field in ContactField.allCases where !values[field.index].isEmpty {
            draft[field] = values[field.index]
        }
        return draft
    }

    /// The contact's phone numbers, `phone1` first, without repeats.
    public var phoneNumbers: [PhoneNumber] {
        guard let phone2, phone2 != phone1 else { return [phone1] }
        return [phone1, phone2]
    }

    /// What the CTI popup shows as the caller's name: first and last name, else the organization.
    public var displayName: String {
        let person = [self[.firstName], self[.lastName]].filter { !$0.isEmpty }.joined(separator: " ")
        return person.isEmpty ? self[.organization] : person
    }
}

/// All rules one row or record breaks, in column order.
public struct ContactRuleViolations: Error, Hashable, Sendable {
    public let violations: [ContactRuleViolation]

    public init(_ violations: [ContactRuleViolation]) {
        self.violations = violations
    }

    /// The messages joined into one line, as the import report shows a rejected row.
    public var message: String {
        violations.map(\.message).joined(separator: " ")
    }
}

extension StringProtocol {
    /// The value without leading and trailing white space (Unicode's White_Space property, so a
    /// no-break space from a spreadsheet is trimmed too).
    package func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let firstScalar = scalars.first else { return "" }
        // Fastest path: starts and ends with a visible ASCII character (no property lookup).
        let lastScalar = scalars.last!
        if (0x21..<0x7F).contains(firstScalar.value), (0x21..<0x7F).contains(lastScalar.value) { return String(self) }
        // Fast path: most values have nothing to trim.
        if !firstScalar.properties.isWhitespace, !scalars.last!.properties.isWhitespace { return String(self) }
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[first...last])
        return String(result)
    }
}

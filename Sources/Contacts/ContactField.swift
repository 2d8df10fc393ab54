/// The fields of a contact (docs/contract.md), in the order of the customer's document.
///
/// The raw value is the field's name as it appears in a CSV header and in JSON.
public enum ContactField: String, CaseIterable, Sendable, Hashable, Codable {
    case firstName, lastName, organization, externalId, email, phone1, phone2, agent1, agent2
    case customField1, customField2, customField3, customField4, customField5, customField6
    case nameUri, organizationUri
    case customField1Uri, customField2Uri, customField3Uri, customField4Uri, customField5Uri, customField6Uri

    /// What a value of the field must be.
    public enum Kind: Sendable {
        case text(maxLength: Int)
        case email
        case phone
        case uri
    }

    public var kind: Kind {
        switch self {
        case .firstName, .lastName, .organization, .externalId: .text(maxLength: 255)
        case .agent1, .agent2, .customField1, .customField2, .customField3, .customField4, .customField5,
            .customField6:
            .text(maxLength: 55)
        case .email: .email
        case .phone1, .phone2: .phone
        case .nameUri, .organizationUri, .customField1Uri, .customField2Uri, .customField3Uri, .customField4Uri,
            .customField5Uri, .customField6Uri:
            .uri
        }
    }

    /// The position of the field in `ContactField.allCases` and in `Contact.values`.
    @inlinable public var index: Int {
        switch self {
        case .firstName: 0
        case .lastName: 1
        case .organization: 2
        case .externalId: 3
        case .email: 4
        case .phone1: 5
        case .phone2: 6
        case .agent1: 7
        case .agent2: 8
        case .customField1: 9
        case .customField2: 10
        case .customField3: 11
        case .customField4: 12
        case .customField5: 13
        case .customField6: 14
        case .nameUri: 15
        case .organizationUri: 16
        case .customField1Uri: 17
        case .customField2Uri: 18
        case .customField3Uri: 19
        case .customField4Uri: 20
        case .customField5Uri: 21
        case .customField6Uri: 22
        }
    }

    /// The fields of which at least one must be set.
    public static let namingFields: [ContactField] = [.firstName, .lastName, .organization]

    /// Finds a field by its name, ignoring case (CSV headers are matched case-insensitively).
    public init?(caseInsensitiveName name: some StringProtocol) {
        guard let field = Self.byLowercasedName[name.lowercased()] else { return nil }
        self = field
    }

    private static let byLowercasedName: [String: ContactField] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0.rawValue.lowercased(), $0) })

    /// The longest value the field accepts, in Unicode scalars.
    public var maxLength: Int {
        switch kind {
        case .text(let maxLength): maxLength
        case .email: 254  // RFC 5321's limit for a forward path
        case .phone: 64
        case .uri: 4096
        }
    }
}

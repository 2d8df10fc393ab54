import Contacts
import Foundation
import LDAPProtocol
import LookupIndex
import PhoneNumbers
import StoreContract

/// The read-only LDAP directory desk phones ask on every ring: binds by login, DN or access token,
/// and searches answered from the organization's lookup index — a number in any form finds its
/// contact, as the HTTP lookup does. Protocol-free: `LDAPConnection` reads and writes the bytes.
struct LDAPDirectory: Sendable {
    let indexes: any IndexProvider
    let authenticator: Authenticator
    let validator = PhoneNumberValidator()
    let names = NameIndexes()
    /// The organization anonymous binds read (`ldap.anonymous`), when one is configured.
    let anonymousOrganization: @Sendable () async -> Organization?

    /// Who a connection is bound as: nobody yet, or an organization.
    enum Binding: Sendable {
        case anonymous
        case organization(Organization)
    }

    /// The attributes that hold phone numbers, lower-cased: an assertion on any of them is
    /// answered through the index and the caller-number reading.
    static let phoneAttributes: Set<String> = [
        "telephonenumber", "mobile", "homephone", "hometelephonenumber", "ipphone", "othertelephone",
        "facsimiletelephonenumber", "pager", "othermobile", "otherhomephone",
    ]

    // MARK: Bind

    /// A simple bind: the name is a login (`novak`), a DN whose first `uid=` or `cn=` is the login
    /// (`uid=novak,o=IPEX`), or `token` with an access token as the password. An empty name and
    /// password is an anonymous bind, which reads nothing but the root DSE.
    func bind(name: String, password: [UInt8]?, client: String) async -> (LDAPResultCode, String, Binding) {
        guard let password else { return (.authMethodNotSupported, "Only simple binds are offered.", .anonymous) }
        if name.isEmpty && password.isEmpty {
            // Anonymous: the configured organization's contacts, or the root DSE alone.
            return (.success, "", await anonymousOrganization().map { .organization($0) } ?? .anonymous)
        }
        let login = Self.login(fromBindName: name)
        let credentials = Credentials.basic(login: login, password: String(decoding: password, as: UTF8.self))
        switch await authenticator.authenticate(authorization: credentials.authorization, client: client) {
        case .allowed(let organization, _, _):
            return (.success, "", .organization(organization))
        case .denied:
            return (.invalidCredentials, "Wrong login or password.", .anonymous)
        case .throttled(let login, let retryAfter):
            return (.invalidCredentials, "Too many failed logins for '\(login)'; try again in \(retryAfter) s.", .anonymous)
        case .unavailable:
            return (.unavailable, "The contact store is unavailable just now; try again in a few seconds.", .anonymous)
        }
    }

    /// `novak` from `novak`, `uid=novak,o=IPEX` or `cn=novak,dc=example,dc=com`.
    static func login(fromBindName name: String) -> String {
        guard let rdn = DistinguishedName(name)?.components.first, ["uid", "cn"].contains(rdn.type.lowercased()) else { return name }
        return rdn.value
    }

    // MARK: Search

    /// The answers to a search: its entries and the final `searchResDone`.
    func search(_ request: SearchRequest, messageID: Int32, binding: Binding) throws -> [LDAPResponse] {
        if request.base.isEmpty && request.scope == .baseObject {
            return [rootDSE(request, messageID: messageID, binding: binding), .searchDone(messageID: messageID, .success, message: "")]
        }
        guard case .organization(let organization) = binding else {
            return [.searchDone(messageID: messageID, .insufficientAccessRights, message: "Bind with a login or an access token first.")]
        }
        let suffix = Self.organizationDN(organization)
        guard let base = DistinguishedName(request.base) else {
            return [.searchDone(messageID: messageID, .noSuchObject, message: "The base '\(request.base.prefix(100))' is not a DN.")]
        }
        // The organization's entry, one of its contacts, or the root: anything else is nothing.
        let organizationDN = DistinguishedName(suffix)!
        var onlyID: Int64?
        if base.components.isEmpty || base == organizationDN {
            // The whole organization (a base of "" with a subtree scope is how many phones ask).
        } else if base.components.count == organizationDN.components.count + 1, base.parent == organizationDN,
            base.components[0].type.lowercased() == "uid", let id = Int64(base.components[0].value)
        {
            onlyID = id
        } else {
            return [.searchDone(messageID: messageID, .noSuchObject, message: "No such entry in this directory.")]
        }
        let entry = try indexes.entry(for: organization)
        let snapshot = entry.index.snapshot
        let names = self.names
        var evaluator = FilterEvaluator(lookup: entry.lookup, snapshot: snapshot, validator: validator) {
            names.index(organizationID: organization.id, snapshot: snapshot)
        }
        var responses: [LDAPResponse] = []
        var code = LDAPResultCode.success
        var message = ""
        if request.scope == .baseObject && onlyID == nil && !base.components.isEmpty {
            // The organization's own entry.
            let attributes: [(String, [String])] = [("objectClass", ["top", "organization"]), ("o", [organization.name])]
            if evaluator.matches(request.filter, ref: nil, values: FilterEvaluator.values(of: attributes)) {
                responses.append(.searchEntry(messageID: messageID, dn: suffix, attributes: Self.selected(attributes, request)))
            }
        } else if request.scope != .baseObject || onlyID != nil {
            let candidates: [ContactRef]
            if let onlyID {
                candidates = snapshot.ref(ofID: onlyID).map { [$0] } ?? []
            } else {
                // Without candidates from the index: every contact, from the name index's list (kept
                // per version) rather than decoding them all here and again below.
                candidates = evaluator.candidates(request.filter) ?? names.index(organizationID: organization.id, snapshot: snapshot).refs
            }
            let limit = request.sizeLimit == 0 ? Self.maximumEntries : min(request.sizeLimit, Self.maximumEntries)
            let deadline = ContinuousClock.now + .seconds(request.timeLimit == 0 ? Self.maximumSeconds : min(request.timeLimit, Self.maximumSeconds))
            for (offset, ref) in candidates.enumerated() {
                if offset % 1_024 == 1_023, ContinuousClock.now > deadline {
                    code = .timeLimitExceeded
                    message = "The search took longer than its time limit; refine the filter."
                    break
                }
                let stored = snapshot.storedContact(ref)
                let asked = evaluator.askedNumbers(matching: ref)
                let validator = self.validator
                guard evaluator.matches(request.filter, ref: ref, values: {
                    Self.value(of: stored, attribute: $0, askedNumbers: asked, validator: validator)
                }) else { continue }
                guard responses.count < limit else {
                    code = .sizeLimitExceeded
                    message = "More than \(limit) entries match; refine the filter or raise the size limit."
                    break
                }
                let attributes = Self.attributes(of: stored, askedNumbers: asked, validator: validator)
                responses.append(.searchEntry(
                    messageID: messageID, dn: "uid=\(stored.id),\(suffix)", attributes: Self.selected(attributes, request)))
            }
        }
        responses.append(.searchDone(messageID: messageID, code, message: message))
        return responses
    }

    /// Entries a search returns at the most, whatever its size limit, and seconds it may take.
    static let maximumEntries = 1_000
    static let maximumSeconds = 10

    private func rootDSE(_ request: SearchRequest, messageID: Int32, binding: Binding) -> LDAPResponse {
        var attributes: [(String, [String])] = [
            ("objectClass", ["top"]), ("supportedLDAPVersion", ["3"]), ("vendorName", ["caller-lookup"]),
        ]
        if case .organization(let organization) = binding { attributes.append(("namingContexts", [Self.organizationDN(organization)])) }
        return .searchEntry(messageID: messageID, dn: "", attributes: Self.selected(attributes, request))
    }

    /// `o=<name>`, escaped as RFC 4514 asks.
    static func organizationDN(_ organization: Organization) -> String {
        "o=" + DistinguishedName.escaped(organization.name)
    }

    /// A contact entry's attributes, in the order they are written.
    static let contactAttributes = [
        "objectClass", "uid", "cn", "displayName", "sn", "givenName", "o", "mail", "employeeNumber", "telephoneNumber", "mobile",
        "labeledURI", "agent1", "agent2", "customField1", "customField2", "customField3", "customField4", "customField5", "customField6",
    ]

    /// A contact's entry: the inetOrgPerson attributes a phone shows, and every number.
    static func attributes(of stored: StoredContact, askedNumbers: [String], validator: PhoneNumberValidator) -> [(String, [String])] {
        contactAttributes.compactMap { name in
            let values = value(of: stored, attribute: name.lowercased(), askedNumbers: askedNumbers, validator: validator)
            return values.isEmpty ? nil : (name, values)
        }
    }

    /// One attribute of a contact's entry (its lower-cased name), computed alone: a filter on
    /// names reads the names, never the numbers' types.
    static func value(of stored: StoredContact, attribute: String, askedNumbers: [String], validator: PhoneNumberValidator) -> [String] {
        let contact = stored.contact
        func field(_ field: ContactField) -> [String] { contact[field].isEmpty ? [] : [contact[field]] }
        switch attribute {
        case "objectclass": return ["top", "person", "organizationalPerson", "inetOrgPerson"]
        case "uid": return [String(stored.id)]
        case "cn", "displayname": return [contact.displayName]
        case "sn": return [contact[.lastName].isEmpty ? contact.displayName : contact[.lastName]]
        case "givenname": return field(.firstName)
        case "o": return field(.organization)
        case "mail": return field(.email)
        case "employeenumber": return field(.externalId)
        case "telephonenumber":
            // 3CX and Linphone keep a hit only if a returned number equals the asked text to the byte.
            var numbers = field(.phone1) + field(.phone2)
            for asked in askedNumbers where !numbers.contains(asked) { numbers.append(asked) }
            return numbers
        case "mobile":
            return (field(.phone1) + field(.phone2)).filter { validator.validateInternational($0).validNumber?.type == .mobile }
        case "labeleduri":
            return [ContactField.nameUri, .organizationUri, .customField1Uri, .customField2Uri, .customField3Uri, .customField4Uri,
                    .customField5Uri, .customField6Uri].flatMap(field)
        default:
            guard let custom = ContactField.allCases.first(where: { $0.rawValue.lowercased() == attribute }),
                [.agent1, .agent2, .customField1, .customField2, .customField3, .customField4, .customField5, .customField6].contains(custom)
            else { return [] }
            return field(custom)
        }
    }

    /// The attributes a search asked for: all (none listed, or `*`), none (`1.1`), or those listed
    /// (names case-insensitive); no values when it asked for types only.
    static func selected(_ attributes: [(String, [String])], _ request: SearchRequest) -> [(String, [String])] {
        let asked = Set(request.attributes.map { $0.lowercased() })
        var chosen: [(String, [String])]
        if asked.isEmpty || asked.contains("*") {
            chosen = attributes
        } else if asked == ["1.1"] {
            chosen = []
        } else {
            chosen = attributes.filter { asked.contains($0.0.lowercased()) }
        }
        if request.typesOnly { chosen = chosen.map { ($0.0, []) } }
        return chosen
    }
}

import Foundation
package import PhoneNumbers

/// A request the API refuses, and why: its form is wrong (`malformed`: not JSON, an unknown
/// operation, a parameter given twice) or a value breaks the rules of a contact or a label
/// (`refused`). The HTTP layer gives each kind its status.
package struct InputError: Error, CustomStringConvertible {
    package enum Kind: Sendable {
        case malformed
        case refused
    }

    package let kind: Kind
    package let message: String
    package let violations: [ContactRuleViolation]

    package init(_ message: String, kind: Kind = .malformed, violations: [ContactRuleViolation] = []) {
        self.kind = kind
        self.message = message
        self.violations = violations
    }

    package var description: String { message }

    /// `{"error":"…","errors":[{"field","value","rule","message"}]}`.
    package var json: [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("error", message)
        writer.key("errors")
        writer.beginArray()
        for violation in violations {
            writer.beginObject()
            writer.key("field")
            if let field = violation.field { writer.value(field.rawValue) } else { writer.null() }
            writer.field("value", violation.value)
            writer.field("rule", violation.ruleName)
            writer.field("message", violation.message)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}

/// Reads a contact from a JSON object whose keys are the CSV column names.
///
/// Values are strings (numbers are taken as their text, so `"externalId": 36936` works); `null`
/// or `""` means "not set". `id`, `version`, `displayName` and `agents` are read-only and ignored, so a client
/// can PUT back what it GOT. Any other key is refused, as is nesting deeper than 16 levels (checked
/// before parsing, so a nesting bomb costs one pass over the bytes).
package enum ContactInput {
    static let readOnly: Set<String> = ["id", "version", "displayName", "agents"]

    /// The fields the object gives: a value, or `nil` for an explicit `null`.
    package static func fields(from bytes: [UInt8]) throws(InputError) -> [ContactField: String?] {
        try fields(of: try decode([String: JSONScalar].self, from: bytes,
                                  expecting: "a JSON object whose keys are contact fields, e.g. {\"lastName\":\"Novák\",\"phone1\":\"+420222333444\"}"))
    }

    package static func fields(of object: [String: JSONScalar]) throws(InputError) -> [ContactField: String?] {
        var fields: [ContactField: String?] = [:]
        for (key, value) in object {
            if readOnly.contains(key) { continue }
            guard let field = ContactField(caseInsensitiveName: key) else {
                let allowed = ContactField.allCases.map(\.rawValue).joined(separator: ", ")
                throw InputError("Unknown field '\(key)'. Fields: \(allowed).")
            }
            switch value {
            case .null: fields[field] = .some(nil)
            case .text(let text): fields[field] = text
            case .other: throw InputError("Field '\(field.rawValue)' must be a string or null.")
            }
        }
        return fields
    }

    /// Decodes JSON after checking its nesting depth.
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], expecting: String) throws(InputError) -> T {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth > 16 { throw InputError("The JSON is nested more than 16 levels deep.") }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw InputError("The body must be \(expecting).")
        }
    }

    /// One item of `POST /v3/contacts/batch`: `{"op":"upsert","contact":{…}}`,
    /// `{"op":"delete","id":5}` or `{"op":"delete","externalId":"crm-7"}`.
    package struct BatchItem: Decodable, Sendable {
        package let op: String
        package let contact: [String: JSONScalar]?
        package let id: Int64?
        package let externalId: String?
        /// Every key the item has: an operation with a key its op does not take is refused.
        package let keys: Set<String>

        private enum CodingKeys: String, CodingKey { case op, contact, id, externalId }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            op = try container.decode(String.self, forKey: .op)
            contact = try container.decodeIfPresent([String: JSONScalar].self, forKey: .contact)
            id = try container.decodeIfPresent(Int64.self, forKey: .id)
            externalId = try container.decodeIfPresent(String.self, forKey: .externalId)
            keys = Set(try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue))
        }
    }

    private struct BatchBody: Decodable {
        let operations: [BatchItem]

        private enum CodingKeys: String, CodingKey { case operations }

        init(from decoder: any Decoder) throws {
            let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).filter { $0 != "operations" }
            guard unknown.isEmpty else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "unknown key '\(unknown[0])'"))
            }
            operations = try decoder.container(keyedBy: CodingKeys.self).decode([BatchItem].self, forKey: .operations)
        }
    }

    private struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The operations of a batch body `{"operations":[…]}`, not yet checked one by one.
    package static func batch(from bytes: [UInt8]) throws(InputError) -> [BatchItem] {
        try decode(BatchBody.self, from: bytes,
                   expecting: #"{"operations":[{"op":"upsert","contact":{…}} or {"op":"delete","id":N}]}"#).operations
    }

    /// Label changes `{"customField1":"Důležitost","customField2":null}` (`null` or `""` clears).
    package static func labelChanges(from bytes: [UInt8]) throws(InputError) -> [ContactField: String?] {
        let object = try decode([String: JSONScalar].self, from: bytes,
                                expecting: #"a JSON object of field names and labels, e.g. {"customField1":"Důležitost"}"#)
        var changes: [ContactField: String?] = [:]
        for (key, value) in object {
            guard let field = ContactField(caseInsensitiveName: key) else {
                throw InputError("Unknown field '\(key)'. Fields: \(ContactField.allCases.map(\.rawValue).joined(separator: ", ")).", kind: .refused)
            }
            switch value {
            case .null: changes[field] = .some(nil)
            case .text(let label): changes[field] = label.isEmpty ? .some(nil) : label
            case .other: throw InputError("The label of \(field.rawValue) must be a string or null.", kind: .refused)
            }
        }
        return changes
    }

    /// A contact from the given fields alone (POST, PUT: omitted fields are cleared).
    package static func contact(_ fields: [ContactField: String?], validator: PhoneNumberValidator) throws(InputError) -> Contact {
        var draft: [ContactField: String] = [:]
        for (field, value) in fields { if let value { draft[field] = value } }
        return try validated(draft, validator: validator)
    }

    /// The contact with `fields` laid over `existing` (PATCH: `null` or `""` clears a field).
    package static func patched(_ existing: Contact, with fields: [ContactField: String?], validator: PhoneNumberValidator) throws(InputError) -> Contact {
        var draft = existing.draft
        for (field, value) in fields { draft[field] = value.flatMap { $0.isEmpty ? nil : $0 } }
        return try validated(draft, validator: validator)
    }

    package static func validated(_ draft: [ContactField: String], validator: PhoneNumberValidator) throws(InputError) -> Contact {
        switch Contact.validate(draft, validator: validator) {
        case .success(let contact): return contact
        case .failure(let failure):
            throw InputError(failure.message, kind: .refused, violations: failure.violations)
        }
    }
}


/// One JSON value of a contact object: text (numbers are taken as their text), null, or anything
/// else (refused).
package enum JSONScalar: Decodable, Sendable {
    case text(String)
    case null
    case other

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if (try? container.decode(Bool.self)) != nil {
            self = .other
        } else if let text = try? container.decode(String.self) {
            self = .text(text)
        } else if let integer = try? container.decode(Int64.self) {
            self = .text(String(integer))
        } else if let number = try? container.decode(Double.self) {
            self = .text(String(number))
        } else {
            self = .other
        }
    }
}

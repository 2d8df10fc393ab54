import Contacts
import Foundation

/// An organization's field labels as stored: a JSON object `{"customField1":"Důležitost"}`.
package enum FieldLabels {
    package static func encode(_ labels: [ContactField: String]) -> String {
        var writer = JSONWriter()
        writer.writeLabels(labels)
        return writer.string
    }

    /// Reads `{"field":"label"|null|""}` as changes for `ContactStore.setLabels`.
    package static func changes(from object: [String: Any]) throws(ContactStoreError) -> [ContactField: String?] {
        var changes: [ContactField: String?] = [:]
        for (key, value) in object {
            guard let field = ContactField(caseInsensitiveName: key) else {
                throw ContactStoreError(.invalidInput, "Unknown field '\(key)'. Fields: \(ContactField.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            switch value {
            case is NSNull: changes[field] = .some(nil)
            case let label as String: changes[field] = label
            default: throw ContactStoreError(.invalidInput, "The label of \(field.rawValue) must be a string or null.")
            }
        }
        return changes
    }

    /// Unknown keys and non-text values are skipped: labels are decoration, never a reason to fail.
    package static func decode(_ text: String) -> [ContactField: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
        return labels(from: object)
    }

    /// The labels of a decoded JSON object (the store's column, a mirror's `whoami` answer).
    package static func labels(from object: [String: Any]) -> [ContactField: String] {
        var labels: [ContactField: String] = [:]
        for (key, value) in object {
            if let field = ContactField(rawValue: key), let label = value as? String, !label.isEmpty { labels[field] = label }
        }
        return labels
    }
}

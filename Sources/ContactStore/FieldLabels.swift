import Contacts
import Foundation

/// An organization's field labels as stored: a JSON object `{"customField1":"Důležitost"}`.
package enum FieldLabels {
    package static func encode(_ labels: [ContactField: String]) -> String {
        var writer = JSONWriter()
        writer.writeLabels(labels)
        return writer.string
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

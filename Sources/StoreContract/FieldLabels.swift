package import Contacts

/// An organization's field labels as stored: a JSON object `{"customField1":"Důležitost"}`.
package enum FieldLabels {
    package static func encode(_ labels: [ContactField: String]) -> String {
        var writer = JSONWriter()
        writer.writeLabels(labels)
        return writer.string
    }

    /// Unknown keys and non-text values are skipped: labels are decoration, never a reason to fail.
    package static func decode(_ text: String) -> [ContactField: String] {
        ChangeFeedJSON.labels(text)
    }
}

extension FieldLabels {
    /// Label changes trimmed (`nil` becomes empty: clear); refused when one is longer than 64
    /// characters or has control characters.
    package static func checked(_ changes: [ContactField: String?]) throws -> [ContactField: String] {
        let trimmed = changes.mapValues { ($0 ?? "").trimmingWhitespace() }
        for (field, label) in trimmed {
            guard label.unicodeScalars.count <= 64, !label.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw ContactStoreError(.invalidInput, "The label of \(field.rawValue) must have at most 64 characters and no control characters.")
            }
        }
        return trimmed
    }

    /// `labels` with the checked changes applied (an empty label clears the field's).
    package static func applying(_ changes: [ContactField: String], to labels: [ContactField: String]) -> [ContactField: String] {
        var result = labels
        for (field, label) in changes { result[field] = label.isEmpty ? nil : label }
        return result
    }
}

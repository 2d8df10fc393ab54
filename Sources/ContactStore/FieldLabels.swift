import Contacts

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

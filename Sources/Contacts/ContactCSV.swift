/// Contacts in the upload's own format: the customer's header (every column, in the document's
/// order, `;`), each non-empty value quoted with its `"` doubled — what `CSVReader` reads back, so
/// a file written here and uploaded again changes nothing. One home for the export and the
/// generator of test files.
public enum ContactCSV {
    /// The header line, with its line break.
    public static let header = ContactField.allCases.map(\.rawValue).joined(separator: ";") + "\n"

    /// One line, with its line break, of the values `value` gives per field.
    public static func line(_ value: (ContactField) -> String) -> String {
        var line = ""
        for (index, field) in ContactField.allCases.enumerated() {
            if index > 0 { line += ";" }
            let text = value(field)
            // Not neutralized against spreadsheet formulas: this file is meant to be uploaded
            // again (a phone number starts with `+`).
            if !text.isEmpty { line += CSVCell.quoted(text, neutralizingFormulas: false) }
        }
        return line + "\n"
    }

    /// The line of a stored contact.
    public static func line(_ contact: Contact) -> String { line { contact[$0] } }
}

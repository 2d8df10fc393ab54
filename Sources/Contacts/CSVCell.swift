import Foundation
/// One value written into a CSV file for people to open: quoted (`"` doubled), and — for files a
/// spreadsheet will open — neutralized against formula injection.
public enum CSVCell {
    /// The characters that make a spreadsheet read a cell as a formula (or, for tab and CR, let the
    /// next character do so): `=`, `+`, `-`, `@`, tab, CR.
    static let formulaStarts: Set<UInt8> = [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D]

    /// `"text"`, with a leading apostrophe when `neutralizingFormulas` and the text starts like a
    /// formula (`=1+2` → `"'=1+2"`): the spreadsheet shows the text and runs nothing. Not for files
    /// meant to be uploaded again, where the apostrophe would become part of the value.
    public static func quoted(_ text: String, neutralizingFormulas: Bool) -> String {
        var value = text
        if neutralizingFormulas, let first = text.utf8.first, formulaStarts.contains(first) { value = "'" + text }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

import CPhoneNumbers

#if canImport(Glibc)
import Glibc
#endif

/// The number descriptions of one region, in the order `NumberPlan` compiles them.
enum NumberDescriptionKind: Int, CaseIterable {
    case general = 0
    case fixedLine, mobile, tollFree, premiumRate, sharedCost, personalNumber, voip, pager, uan, voicemail
}

/// One of libphonenumber's number descriptions: a pattern over the national significant number
/// and the lengths it allows.
struct NumberDescription: Sendable {
    /// A regular expression; empty when the description is absent (it then matches nothing).
    let pattern: String
    /// Possible national-number lengths; empty means "as the general description"; `[-1]` none.
    let possibleLengths: [Int]
    /// Lengths only diallable within the area.
    let localOnlyLengths: [Int]
    /// libphonenumber's example national number for this description, if it has one.
    let exampleNumber: String
}

/// One entry of libphonenumber's compiled metadata (`PhoneMetadata`), as the library states it.
struct RegionMetadata: Sendable {
    /// `CZ`, or `001` for a non-geographic entity (several entries share it, one per country code).
    let id: String
    let countryCode: Int
    let isMainCountryForCode: Bool
    /// Present only when the metadata has `leading_digits`.
    let leadingDigits: String?
    let internationalPrefix: String
    let preferredInternationalPrefix: String
    let nationalPrefix: String
    let nationalPrefixForParsing: String
    let nationalPrefixTransformRule: String
    let sameMobileAndFixedLinePattern: Bool
    /// Indexed by `NumberDescriptionKind.rawValue`.
    let descriptions: [NumberDescription]

    subscript(kind: NumberDescriptionKind) -> NumberDescription { descriptions[kind.rawValue] }

    /// The entry as one line of a plan file (what `init(line:)` reads).
    var line: String {
        var fields = [
            id, String(countryCode), isMainCountryForCode ? "1" : "0", leadingDigits == nil ? "0" : "1", leadingDigits ?? "",
            internationalPrefix, preferredInternationalPrefix, nationalPrefix, nationalPrefixForParsing, nationalPrefixTransformRule,
            sameMobileAndFixedLinePattern ? "1" : "0",
        ]
        for description in descriptions {
            fields += [
                description.pattern, description.possibleLengths.map(String.init).joined(separator: ","),
                description.localOnlyLengths.map(String.init).joined(separator: ","), description.exampleNumber,
            ]
        }
        if let numberFormats {
            fields.append(String(numberFormats.count))
            for format in numberFormats { fields += [format.pattern, format.format, format.leadingDigits, format.nationalPrefixRule] }
            fields.append(String(internationalFormats.count))
            for format in internationalFormats { fields += [format.pattern, format.format, format.leadingDigits] }
        }
        return fields.joined(separator: "\t")
    }

    /// Every entry of the plan this process runs with (`NumberPlanFile.current`).
    static var installed: [RegionMetadata] { NumberPlanFile.current.regions }

    /// Every entry of the C++ library's compiled-in metadata (the C++ differential's oracle).
    static var library: [RegionMetadata] { NumberPlanFile.library.regions }

    /// Reads one line of `cpn_plan_metadata`; `nil` for a line of an unexpected shape.
    init?(line: Substring) {
        let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        let descriptionCount = NumberDescriptionKind.allCases.count
        let fixed = 11 + 4 * descriptionCount
        guard columns.count >= fixed, let countryCode = Int(columns[1]) else { return nil }
        func lengths(_ text: String) -> [Int] { text.split(separator: ",").compactMap { Int($0) } }
        id = columns[0]
        self.countryCode = countryCode
        isMainCountryForCode = columns[2] == "1"
        leadingDigits = columns[3] == "1" ? columns[4] : nil
        internationalPrefix = columns[5]
        preferredInternationalPrefix = columns[6]
        nationalPrefix = columns[7]
        nationalPrefixForParsing = columns[8]
        nationalPrefixTransformRule = columns[9]
        sameMobileAndFixedLinePattern = columns[10] == "1"
        descriptions = (0..<descriptionCount).map { index in
            let base = 11 + 4 * index
            return NumberDescription(
                pattern: columns[base], possibleLengths: lengths(columns[base + 1]),
                localOnlyLengths: lengths(columns[base + 2]), exampleNumber: columns[base + 3])
        }
        // The number formats, when the line has them (a plan file from convert.py does; the C++
        // library's own metadata is formatted by the library).
        guard columns.count > fixed else {
            numberFormats = nil
            internationalFormats = []
            return
        }
        var index = fixed
        func formats(width: Int) -> [NumberFormat]? {
            guard index < columns.count, let count = Int(columns[index]), count >= 0, index + 1 + count * width <= columns.count else { return nil }
            let start = index + 1
            index = start + count * width
            return (0..<count).map { item in
                let base = start + item * width
                return NumberFormat(
                    pattern: columns[base], format: columns[base + 1], leadingDigits: columns[base + 2],
                    nationalPrefixRule: width > 3 ? columns[base + 3] : "")
            }
        }
        guard let national = formats(width: 4), let international = formats(width: 3), index == columns.count else { return nil }
        numberFormats = national
        internationalFormats = international
    }

    /// How national numbers are written (`nil`: the line has no formats; the C++ library formats).
    let numberFormats: [NumberFormat]?
    /// How they are written internationally; empty: as nationally.
    let internationalFormats: [NumberFormat]
}

/// One of libphonenumber's number formats.
struct NumberFormat: Sendable {
    /// The whole national number must match it; its groups are the format's `$1`, `$2`…
    let pattern: String
    /// `$1 $2 $3`; `NA` in an international format: not written internationally.
    let format: String
    /// The last leading-digits pattern (the most precise); empty: any number.
    let leadingDigits: String
    /// `0$1`: the national prefix and the first group, for the national form.
    let nationalPrefixRule: String
}

/// The libphonenumber this process runs with, for `caller-lookup --version` and support questions:
/// which library file (its name carries the version), how many metadata entries, and a fingerprint
/// of the compiled metadata (two builds answer alike only when the fingerprints agree).
public enum PhoneNumberLibrary {
    /// The C++ library's version from its file name (`8.12`).
    static var libraryVersion: String {
        guard let raw = cpn_library_description() else { return "?" }
        defer { free(raw) }
        let path = String(cString: raw).split(separator: "\t").first.map(String.init) ?? ""
        let file = path.split(separator: "/").last.map(String.init) ?? path
        return file.firstRange(of: ".so.").map { String(file[$0.upperBound...]) } ?? "?"
    }

    /// The number plan this process validates by: its libphonenumber version, fingerprint and file.
    public static var plan: String {
        let plan = NumberPlanFile.current
        return "number plan: libphonenumber \(plan.version) metadata, \(plan.regions.count) regions and entities, fingerprint \(plan.fingerprint)"
            + (plan.path.map { " (\($0))" } ?? " (compiled into the C++ library)")
    }

    public static var description: String {
        guard let raw = cpn_library_description() else { return "libphonenumber (not described)" }
        defer { free(raw) }
        let fields = String(cString: raw).split(separator: "\t")
        guard fields.count == 3 else { return "libphonenumber (not described)" }
        let file = fields[0].split(separator: "/").last.map(String.init) ?? String(fields[0])
        let version = file.firstRange(of: ".so.").map { String(file[$0.upperBound...]) } ?? "?"
        return "libphonenumber \(version) (\(fields[0])), metadata of \(fields[1]) regions and entities, fingerprint \(fields[2])"
    }
}

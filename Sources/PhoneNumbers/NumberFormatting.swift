import Foundation

/// libphonenumber's `Format` for the national and international forms, from the plan's number
/// formats (so the phonebooks and the validator write numbers as the plan's release does): the
/// country code's main region's formats; the first whose last leading-digits pattern matches the
/// start of the national number and whose pattern matches all of it; its groups placed by the
/// format, the national prefix formatting rule applied to the first group in the national form.
/// A number no format fits is written as its digits.
final class CompiledFormats: @unchecked Sendable {
    // NSRegularExpression is immutable and safe to use from several threads.
    private struct Entry {
        let pattern: NSRegularExpression
        let leading: NSRegularExpression?
        let format: String
        let nationalPrefixRule: String
    }

    private let national: [Entry]
    private let international: [Entry]

    init?(_ metadata: RegionMetadata) {
        guard let formats = metadata.numberFormats else { return nil }
        func compile(_ format: NumberFormat) -> Entry? {
            guard let pattern = try? NSRegularExpression(pattern: "^(?:\(format.pattern))$") else { return nil }
            let leading = format.leadingDigits.isEmpty ? nil : try? NSRegularExpression(pattern: "^(?:\(format.leadingDigits))")
            if !format.leadingDigits.isEmpty, leading == nil { return nil }
            return Entry(pattern: pattern, leading: leading, format: format.format, nationalPrefixRule: format.nationalPrefixRule)
        }
        let national = formats.compactMap(compile)
        let international = metadata.internationalFormats.compactMap(compile)
        guard national.count == formats.count, international.count == metadata.internationalFormats.count else { return nil }
        self.national = national
        self.international = international
    }

    /// The national significant number written nationally or internationally (without `+CC`).
    func format(_ nsn: String, national wantsNational: Bool) -> String {
        let available = wantsNational || international.isEmpty ? national : international
        let range = NSRange(location: 0, length: nsn.utf16.count)
        for entry in available {
            if let leading = entry.leading, leading.firstMatch(in: nsn, options: .anchored, range: range) == nil { continue }
            guard entry.pattern.firstMatch(in: nsn, range: range) != nil else { continue }
            if entry.format == "NA" { return nsn }
            var template = entry.format
            if wantsNational, !entry.nationalPrefixRule.isEmpty,
               let first = template.range(of: #"\$\d"#, options: .regularExpression)
            {
                // The rule's `$1` stands for the format's first group, whichever it is (`0$1` on `$2 15-$3-$4`).
                template.replaceSubrange(first, with: entry.nationalPrefixRule.replacingOccurrences(of: "$1", with: String(template[first])))
            }
            return entry.pattern.stringByReplacingMatches(in: nsn, range: range, withTemplate: template)
        }
        return nsn
    }
}

extension NumberPlan {
    /// `number` in the national or international form by this plan's formats; `nil` when the
    /// plan has none for its country code (a plan without formats: the C++ library formats).
    func format(_ number: PhoneNumber, national: Bool) -> String? {
        let digits = number.e164.dropFirst()
        for length in 1...3 where digits.count > length {
            guard let code = Int(digits.prefix(length)), let formats = formats(forCountryCode: code) else { continue }
            let nsn = String(digits.dropFirst(length))
            let written = formats.format(nsn, national: national)
            return national ? written : "+\(code) \(written)"
        }
        return nil
    }
}

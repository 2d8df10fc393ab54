/// The email rule of SPEC §3: a practical subset of RFC 5321/5322 addresses.
///
/// `local@domain`: the local part is dot-separated atoms of letters, digits and
/// ``!#$%&'*+/=?^_`{|}~-`` (non-ASCII letters allowed, RFC 6531), at most 64 bytes; the domain has at
/// least two labels of letters, digits and inner hyphens, each at most 63 bytes. Quoted local parts
/// and IP-literal domains are refused: no CRM exports them, and they are where injection hides.
enum EmailAddress {
    static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let local = parts[0]
        let domain = parts[1]
        guard !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty, domain.utf8.count <= 253 else {
            return false
        }
        for atom in local.split(separator: ".", omittingEmptySubsequences: false) {
            guard !atom.isEmpty,
                atom.unicodeScalars.allSatisfy({ $0.value > 0x7F ? isLetterOrDigit($0) : isAtomASCII($0) })
            else { return false }
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63, label.first != "-", label.last != "-",
                label.unicodeScalars.allSatisfy({ $0 == "-" || isLetterOrDigit($0) })
            else { return false }
        }
        // The top-level domain is never all digits.
        return !labels.last!.allSatisfy(\.isNumber)
    }

    private static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            return ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
        }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    private static func isAtomASCII(_ scalar: Unicode.Scalar) -> Bool {
        isLetterOrDigit(scalar) || "!#$%&'*+/=?^_`{|}~-".unicodeScalars.contains(scalar)
    }
}

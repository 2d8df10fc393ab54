/// The rule of the `email` field: a practical subset of RFC 5321/5322 addresses.
///
/// `local@domain`: the local part is dot-separated atoms of letters, digits and
/// ``!#$%&'*+/=?^_`{|}~-`` (non-ASCII letters allowed, RFC 6531), at most 64 bytes; the domain has at
/// least two labels of letters, digits and inner hyphens, each at most 63 bytes. Quoted local parts
/// and IP-literal domains are refused: no CRM exports them, and they are where injection hides.
enum EmailAddress {
    static func isValid(_ text: String) -> Bool {
        var text = text
        if let ascii = text.withUTF8({ bytes in bytes.allSatisfy { $0 < 0x80 } ? isValid(ascii: bytes) : nil }) {
            return ascii
        }
        return isValid(unicode: text)
    }

    /// The same rule over the bytes of an ASCII address, in one pass.
    private static func isValid(ascii bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let at = bytes.firstIndex(of: UInt8(ascii: "@")),
            !bytes[(at + 1)...].contains(UInt8(ascii: "@")),
            at >= 1, at <= 64, bytes.count - at - 1 >= 1, bytes.count - at - 1 <= 253
        else { return false }
        func isLetterOrDigit(_ byte: UInt8) -> Bool {
            (0x61...0x7A).contains(byte | 0x20) || (0x30...0x39).contains(byte)
        }
        let dot = UInt8(ascii: ".")
        var atomLength = 0
        for byte in bytes[..<at] {
            if byte == dot {
                guard atomLength > 0 else { return false }
                atomLength = 0
                continue
            }
            guard isLetterOrDigit(byte) || isAtomPunctuation(byte) else { return false }
            atomLength += 1
        }
        guard atomLength > 0 else { return false }
        var labels = 0
        var labelStart = at + 1
        var index = at + 1
        while index <= bytes.count {
            if index == bytes.count || bytes[index] == dot {
                let label = bytes[labelStart..<index]
                guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
                else { return false }
                labels += 1
                if index == bytes.count {
                    // The top-level domain is never all digits.
                    return labels >= 2 && !label.allSatisfy { (0x30...0x39).contains($0) }
                }
                labelStart = index + 1
            } else {
                guard bytes[index] == UInt8(ascii: "-") || isLetterOrDigit(bytes[index]) else { return false }
            }
            index += 1
        }
        return false
    }

    private static func isAtomPunctuation(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="),
            UInt8(ascii: "?"), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "{"),
            UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    private static func isValid(unicode text: String) -> Bool {
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

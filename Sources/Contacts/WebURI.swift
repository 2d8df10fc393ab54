/// The rule of the `…Uri` fields: an absolute `http` or `https` URI, because the CTI popup opens it in a
/// browser and anything else (`javascript:`, `data:`, `file:`) is a way to attack the agent.
enum WebURI {
    /// `http://` or `https://` (scheme in any case), a non-empty host of URI host characters with an
    /// optional port, then an optional path, query and fragment of printable ASCII or non-ASCII
    /// letters (a CRM may put diacritics in a path). No white space, no control characters.
    static func isAbsoluteHTTP(_ text: String) -> Bool {
        var text = text
        if let ascii = text.withUTF8({ bytes in bytes.allSatisfy { $0 < 0x80 } ? isAbsoluteHTTP(ascii: bytes) : nil }) {
            return ascii
        }
        return isAbsoluteHTTP(unicode: text)
    }

    /// The same rule over the bytes of an ASCII text (no allocation, no grapheme breaking).
    private static func isAbsoluteHTTP(ascii bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }
        func hasPrefix(_ prefix: StaticString) -> Bool {
            guard bytes.count >= prefix.utf8CodeUnitCount else { return false }
            return (0..<prefix.utf8CodeUnitCount).allSatisfy { lower(bytes[$0]) == prefix.utf8Start[$0] }
        }
        let start: Int
        if hasPrefix("https://") {
            start = 8
        } else if hasPrefix("http://") {
            start = 7
        } else {
            return false
        }
        let slash = UInt8(ascii: "/"), question = UInt8(ascii: "?"), hash = UInt8(ascii: "#")
        let authorityEnd = bytes[start...].firstIndex { $0 == slash || $0 == question || $0 == hash } ?? bytes.count
        var hostStart = start
        if let at = bytes[start..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) { hostStart = at + 1 }
        var hostEnd = authorityEnd
        var portStart = authorityEnd
        if hostStart < authorityEnd, bytes[hostStart] == UInt8(ascii: "[") {
            guard let close = bytes[hostStart..<authorityEnd].firstIndex(of: UInt8(ascii: "]")) else { return false }
            hostEnd = close + 1
            if hostEnd < authorityEnd {
                guard bytes[hostEnd] == UInt8(ascii: ":") else { return false }
                portStart = hostEnd + 1
            }
        } else if let colon = bytes[hostStart..<authorityEnd].firstIndex(of: UInt8(ascii: ":")) {
            hostEnd = colon
            portStart = colon + 1
        }
        var port = 0
        for byte in bytes[portStart..<authorityEnd] {
            guard (0x30...0x39).contains(byte) else { return false }
            port = port * 10 + Int(byte - 0x30)
            guard port <= 65535 else { return false }
        }
        guard hostStart < hostEnd, bytes[hostStart] != UInt8(ascii: "."), bytes[hostStart] != UInt8(ascii: "-") else {
            return false
        }
        for byte in bytes[hostStart..<hostEnd] {
            let letterOrDigit = (0x61...0x7A).contains(lower(byte)) || (0x30...0x39).contains(byte)
            guard letterOrDigit || Self.isHostPunctuation(byte) else { return false }
        }
        return bytes.allSatisfy { byte in
            switch byte {
            case 0...0x20, 0x7F, UInt8(ascii: "\""), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\\"), UInt8(ascii: "`"):
                false
            default:
                true
            }
        }
    }

    private static func isHostPunctuation(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "["),
            UInt8(ascii: "]"), UInt8(ascii: ":"), UInt8(ascii: "%"):
            true
        default:
            false
        }
    }

    private static func isAbsoluteHTTP(unicode text: String) -> Bool {
        let lowered = text.lowercased()
        let rest: Substring
        if lowered.hasPrefix("https://") {
            rest = text.dropFirst(8)
        } else if lowered.hasPrefix("http://") {
            rest = text.dropFirst(7)
        } else {
            return false
        }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            authority = authority[authority.index(after: at)...]
        }
        var host = authority
        var port: Substring = ""
        if authority.hasPrefix("[") {  // IPv6 literal
            guard let close = authority.firstIndex(of: "]") else { return false }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { return false }
                port = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        guard port.allSatisfy({ $0.isASCII && $0.isNumber }), port.isEmpty || Int(port).map({ $0 <= 65535 }) == true
        else { return false }
        guard !host.isEmpty else { return false }
        let hostOK = host.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x7F ? scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                : ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                    || "-._~[]:%".unicodeScalars.contains(scalar)
        }
        guard hostOK, host.first != ".", host.first != "-" else { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            if scalar.isASCII {
                return scalar.value > 0x20 && scalar.value != 0x7F && !"\"<>\\`".unicodeScalars.contains(scalar)
            }
            return
                !(0x80...0x9F).contains(scalar.value) && !scalar.properties.isWhitespace
        }
    }
}

/// The link rule of SPEC §3: an absolute `http` or `https` URI, because the CTI popup opens it in a
/// browser and anything else (`javascript:`, `data:`, `file:`) is a way to attack the agent.
enum WebURI {
    /// `http://` or `https://` (scheme in any case), a non-empty host of URI host characters with an
    /// optional port, then an optional path, query and fragment of printable ASCII or non-ASCII
    /// letters (a CRM may put diacritics in a path). No white space, no control characters.
    static func isAbsoluteHTTP(_ text: String) -> Bool {
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

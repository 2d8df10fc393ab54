/// Values from requests (a login, a name) as they go into a log line: control characters, line
/// breaks, NULs and backslashes escaped (`\n`, `\u{0}`, `\\`), so no client can forge or split a
/// log line, and long values cut at 128 characters.
enum LogText {
    static func escaped(_ value: String) -> String {
        var result = ""
        for scalar in value.unicodeScalars.prefix(128) {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029:
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return value.unicodeScalars.count > 128 ? result + "…" : result
    }
}

/// A pull reader of JSON text for the mirror's large answers (a million contacts is 650 MB): values
/// are read straight into what the caller builds, without a tree of dictionaries in between.
///
/// Strict RFC 8259 syntax; strings are unescaped (`\uXXXX` with surrogate pairs); numbers are read
/// as integers where asked. Errors say where (byte offset) and what was expected.
package struct JSONScanner {
    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0

    /// Objects and arrays nest at most this deep; deeper input is refused, never a stack overflow.
    package static let maximumDepth = 64

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package struct Failure: Error, CustomStringConvertible {
        package let description: String

        package init(description: String) { self.description = description }
    }

    private func failure(_ expected: String) -> Failure {
        Failure(description: "malformed JSON at byte \(position): expected \(expected)")
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x0A || bytes[position] == 0x0D || bytes[position] == 0x09 {
            position += 1
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(Failure) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else { throw failure(what) }
        position += 1
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw Failure(description: "malformed JSON at byte \(position): nested more than \(Self.maximumDepth) levels deep")
        }
    }

    /// Reads an object, calling `member` with each key; `member` must read (or skip) the value.
    package mutating func object(_ member: (inout JSONScanner, String) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "{"), "{")
        try enter()
        defer { depth -= 1 }
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            let key = try string()
            try expect(UInt8(ascii: ":"), ":")
            try member(&self, key)
            skipWhitespace()
            guard position < bytes.count else { throw failure(", or }") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "}") else { throw failure(", or }") }
            position += 1
            return
        }
    }

    /// Reads an array, calling `element` for each element; `element` must read (or skip) it.
    package mutating func array(_ element: (inout JSONScanner) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "["), "[")
        try enter()
        defer { depth -= 1 }
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return
        }
        while true {
            try element(&self)
            skipWhitespace()
            guard position < bytes.count else { throw failure(", or ]") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "]") else { throw failure(", or ]") }
            position += 1
            return
        }
    }

    /// `true` (and consumes it) when the next value is `null`.
    package mutating func null() -> Bool {
        skipWhitespace()
        guard bytes.count - position >= 4, bytes[position] == UInt8(ascii: "n"), bytes[position + 1] == UInt8(ascii: "u"),
            bytes[position + 2] == UInt8(ascii: "l"), bytes[position + 3] == UInt8(ascii: "l")
        else { return false }
        position += 4
        return true
    }

    /// The next value when it is a string; `nil` (and the value skipped) when it is anything else.
    package mutating func stringOrSkip() throws(Failure) -> String? {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
            try skipValue()
            return nil
        }
        return try string()
    }

    package mutating func bool() throws(Failure) -> Bool {
        skipWhitespace()
        if bytes[position...].starts(with: "true".utf8) {
            position += 4
            return true
        }
        if bytes[position...].starts(with: "false".utf8) {
            position += 5
            return false
        }
        throw failure("true or false")
    }

    package mutating func int64() throws(Failure) -> Int64 {
        skipWhitespace()
        var negative = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        let start = position
        var value: Int64 = 0
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(bytes[position] - 0x30))
            guard !overflow1, !overflow2 else { throw failure("an integer in range") }
            value = sum
            position += 1
        }
        guard position > start else { throw failure("an integer") }
        return negative ? -value : value
    }

    package mutating func string() throws(Failure) -> String {
        try expect(UInt8(ascii: "\""), "a string")
        let start = position
        // Fast path: no escapes.
        while position < bytes.count, bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\"),
            bytes[position] >= 0x20
        {
            position += 1
        }
        guard position < bytes.count else { throw failure("the end of a string") }
        if bytes[position] == UInt8(ascii: "\"") {
            defer { position += 1 }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }
        var scratch = Array(bytes[start..<position])
        while true {
            guard position < bytes.count else { throw failure("the end of a string") }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { throw failure("an escape") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escape)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar), bytes[position...].starts(with: "\\u".utf8) {
                        position += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw failure("a low surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    scratch += Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
                default:
                    throw failure("a valid escape")
                }
            default:
                guard byte >= 0x20 else { throw failure("no control character in a string") }
                scratch.append(byte)
            }
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - position >= 4 else { throw failure("four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x37)
            case 0x61...0x66: digit = UInt32(byte - 0x57)
            default: throw failure("a hex digit")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    /// Skips any value.
    package mutating func skipValue() throws(Failure) {
        skipWhitespace()
        guard position < bytes.count else { throw failure("a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): try object { scanner, _ throws(Failure) in try scanner.skipValue() }
        case UInt8(ascii: "["): try array { scanner throws(Failure) in try scanner.skipValue() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"):
            guard null() else { throw failure("null") }
        default:
            // A number: sign, digits, fraction, exponent.
            let start = position
            while position < bytes.count, "+-.eE0123456789".utf8.contains(bytes[position]) { position += 1 }
            guard position > start else { throw failure("a value") }
        }
    }

    /// Whether only white space is left.
    package mutating func atEnd() -> Bool {
        skipWhitespace()
        return position == bytes.count
    }
}

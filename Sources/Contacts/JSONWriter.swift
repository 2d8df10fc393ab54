/// A small JSON writer that appends straight to a byte buffer, keys in the order written.
///
/// Used for answers whose key order is part of what people read (the import report starts with
/// `message` and `error`) and for contact JSON rendered once per contact, where a generic encoder
/// would cost an allocation per field.
package struct JSONWriter {
    package private(set) var bytes: [UInt8] = []
    private var needsComma = false

    package init() {}

    package var string: String { String(decoding: bytes, as: UTF8.self) }

    package mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    package mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    package mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    package mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    package mutating func key(_ name: String) {
        separate()
        appendString(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    package mutating func value(_ text: String) {
        separate()
        appendString(text)
        needsComma = true
    }

    package mutating func value(_ number: Int) {
        separate()
        bytes.append(contentsOf: String(number).utf8)
        needsComma = true
    }

    package mutating func value(_ flag: Bool) {
        separate()
        bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        needsComma = true
    }

    package mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// The bytes written so far, handed over and cleared (the writer goes on where it was): for
    /// answers streamed in chunks.
    package mutating func takeBytes() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    /// Lets `render` append one complete JSON value in place (a contact, an array of them).
    package mutating func rawValue(_ render: (inout [UInt8]) -> Void) {
        separate()
        render(&bytes)
        needsComma = true
    }

    package mutating func field(_ name: String, _ text: String) {
        key(name)
        value(text)
    }

    package mutating func field(_ name: String, _ number: Int) {
        key(name)
        value(number)
    }

    package mutating func field(_ name: String, _ flag: Bool) {
        key(name)
        value(flag)
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { Self.appendEscaped(UnsafeRawBufferPointer($0), to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends UTF-8 `text` JSON-escaped (without the quotes): `"`, `\\`, control characters and
    /// DEL. The one escaper of the project; values that need none are copied whole.
    package static func appendEscaped(_ text: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        let typed = text.bindMemory(to: UInt8.self)
        guard typed.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == 0x7F })
        else {
            output.append(contentsOf: typed)
            return
        }
        for byte in typed {
            switch byte {
            case UInt8(ascii: "\""): output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20, 0x7F:
                output += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                           hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: output.append(byte)
            }
        }
    }
}

extension JSONWriter {
    /// An organization's field labels, `{"customField1":"Důležitost",…}`, in field order.
    package mutating func writeLabels(_ labels: [ContactField: String]) {
        beginObject()
        for field in ContactField.allCases {
            if let label = labels[field] { self.field(field.rawValue, label) }
        }
        endObject()
    }
}

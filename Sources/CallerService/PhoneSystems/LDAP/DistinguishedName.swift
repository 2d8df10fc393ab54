import Foundation

/// A distinguished name as RFC 4514 writes it: `uid=12,o=IPEX a.s.`; one attribute per RDN.
struct DistinguishedName: Equatable {
    struct Component: Equatable {
        let type: String
        let value: String

        static func == (lhs: Component, rhs: Component) -> Bool {
            lhs.type.lowercased() == rhs.type.lowercased() && FilterEvaluator.folded(lhs.value) == FilterEvaluator.folded(rhs.value)
        }
    }

    let components: [Component]

    /// The name without its first component.
    var parent: DistinguishedName { DistinguishedName(components: Array(components.dropFirst())) }

    init(components: [Component]) { self.components = components }

    /// `nil` for text that is not a DN (a component without `=`).
    init?(_ text: String) {
        var components: [Component] = []
        var current: [UInt8] = []
        var type: String?
        var escaped = false
        var bytes = Array(text.utf8)[...]
        func finish() -> Bool {
            // A component without `=` (or an empty one, `o=IPEX,`) is not a DN.
            guard let name = type else { return false }
            components.append(Component(
                type: name.trimmingCharacters(in: .whitespaces),
                value: String(decoding: current, as: UTF8.self).trimmingCharacters(in: .whitespaces)))
            current = []
            type = nil
            return true
        }
        if text.trimmingCharacters(in: .whitespaces).isEmpty {
            self.components = []
            return
        }
        while let byte = bytes.popFirst() {
            if escaped {
                escaped = false
                if let high = PercentEncoding.hexValue(byte), let next = bytes.first, let low = PercentEncoding.hexValue(next) {
                    bytes.removeFirst()
                    current.append(high << 4 | low)
                } else {
                    current.append(byte)
                }
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "="), type == nil {
                type = String(decoding: current, as: UTF8.self)
                current = []
            } else if byte == UInt8(ascii: ",") || byte == UInt8(ascii: ";") {
                guard finish() else { return nil }
            } else {
                current.append(byte)
            }
        }
        guard finish() else { return nil }
        self.components = components
    }

    /// A value written into a DN: `,+"\<>;=` escaped, and a leading `#` or space and a trailing space.
    static func escaped(_ value: String) -> String {
        var out = ""
        for (offset, character) in value.enumerated() {
            if ",+\"\\<>;=".contains(character) || (offset == 0 && (character == "#" || character == " "))
                || (offset == value.count - 1 && character == " ")
            {
                out.append("\\")
            }
            out.append(character)
        }
        return out
    }
}

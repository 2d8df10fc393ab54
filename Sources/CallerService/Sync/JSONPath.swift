import Foundation

/// A small path into a JSON value, for mapping a CRM's export to contact fields:
///
/// * `$` is the value itself (a page that is the item array, or an item that is a string);
/// * `.name` a member (`$.properties.firstname`), `["any name"]` one with other characters;
/// * `[N]` the N-th element of an array, from 0 (`$.phones[0].number`).
///
/// A path without the leading `$` is read as if it had `$.` before it (`email` is `$.email`).
/// A member or element that is not there yields nothing (an empty value), never an error.
public struct JSONPath: Hashable, Sendable, CustomStringConvertible {
    enum Step: Hashable, Sendable {
        case member(String)
        case element(Int)
    }

    let steps: [Step]
    public let description: String

    /// Reads `text`; throws a message that says where it stopped.
    public init(_ text: String) throws(JSONPathError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw JSONPathError("An empty path; write $ for the value itself or $.name for a member.") }
        var rest = Substring(trimmed.hasPrefix("$") ? String(trimmed.dropFirst()) : "." + trimmed)
        var steps: [Step] = []
        while let first = rest.first {
            if first == "." {
                rest = rest.dropFirst()
                let name = rest.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { throw JSONPathError("'\(trimmed)': a '.' must be followed by a member's name.") }
                steps.append(.member(String(name)))
                rest = rest.dropFirst(name.count)
            } else if first == "[" {
                guard let close = rest.firstIndex(of: "]") else { throw JSONPathError("'\(trimmed)': a '[' is never closed.") }
                let inside = rest[rest.index(after: rest.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                if let quote = inside.first, quote == "\"" || quote == "'", inside.count >= 2, inside.last == quote {
                    steps.append(.member(String(inside.dropFirst().dropLast())))
                } else if let index = Int(inside), index >= 0 {
                    steps.append(.element(index))
                } else {
                    throw JSONPathError("'\(trimmed)': [\(inside)] is neither an index from 0 nor a quoted name.")
                }
                rest = rest[rest.index(after: close)...]
            } else {
                throw JSONPathError("'\(trimmed)': expected '.' or '[' at '\(rest.prefix(20))'.")
            }
        }
        self.steps = steps
        self.description = trimmed.hasPrefix("$") ? trimmed : "$." + trimmed
    }

    /// The value at this path in `root` (a `JSONSerialization` value), or `nil`.
    func value(in root: Any) -> Any? {
        var current: Any = root
        for step in steps {
            switch step {
            case .member(let name):
                guard let object = current as? [String: Any], let next = object[name] else { return nil }
                current = next
            case .element(let index):
                guard let array = current as? [Any], index < array.count else { return nil }
                current = array[index]
            }
        }
        return current
    }

    /// The text of the value at this path: a string as it is, a number as written (an integer
    /// without a decimal point or exponent), `true`/`false`, an array's values joined by `, `
    /// (`$.tags`), an object as its JSON; `""` for `null` or nothing.
    func text(in root: Any) -> String {
        value(in: root).map(Self.text(of:)) ?? ""
    }

    static func text(of value: Any) -> String {
        switch value {
        case let string as String: return string
        case let number as NSNumber:
            // JSON's true and false are the NSNumbers of type `c` (BOOL); no parsed number is.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            let double = number.doubleValue
            if double.rounded() == double, abs(double) < 1e18 { return String(number.int64Value) }
            return number.stringValue
        case is NSNull: return ""
        case let array as [Any]: return array.map(text(of:)).filter { !$0.isEmpty }.joined(separator: ", ")
        default:
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "" }
            return String(decoding: data, as: UTF8.self)
        }
    }
}

public struct JSONPathError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

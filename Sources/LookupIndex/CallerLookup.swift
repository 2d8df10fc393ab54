import Contacts
import PhoneNumbers

/// Which way a lookup found its contacts (SPEC §5).
public enum MatchKind: String, Sendable {
    case exact
    case suffix
    case none
}

/// The answer to "who is calling?" from one snapshot.
public struct LookupResult: Sendable {
    public let number: String
    /// The E.164 number that matched, or the best reading of the text when nothing matched.
    public let normalized: PhoneNumber?
    public let match: MatchKind
    public let matches: Matches
    /// The snapshot the answer came from; render the contacts from it.
    public let snapshot: IndexSnapshot
}

/// Answers caller-number lookups for one organization's region: the fast normalizer first, then
/// the validator's full reading once (the compiled `NumberPlan`, libphonenumber for what it does
/// not cover), then the suffix match.
public struct CallerLookup: Sendable {
    public let region: String
    let normalizer: CallerNumberNormalizer
    let validator: PhoneNumberValidator

    public init?(region: String, validator: PhoneNumberValidator = PhoneNumberValidator()) {
        guard let normalizer = CallerNumberNormalizer(region: region) else { return nil }
        self.region = region
        self.normalizer = normalizer
        self.validator = validator
    }

    public func lookUp(_ text: String, in snapshot: IndexSnapshot) -> LookupResult {
        let normalized = normalizer.normalize(text)
        for candidate in normalized {
            let found = snapshot.contacts(withNumber: candidate)
            if !found.isEmpty {
                return LookupResult(number: text, normalized: candidate, match: .exact, matches: found, snapshot: snapshot)
            }
        }
        // The normalizer's readings found nothing: ask the validator for libphonenumber's reading.
        let parsed = validator.candidates(for: CallerNumber(text), defaultRegion: region)
        for candidate in parsed where !normalized.contains(candidate) {
            let found = snapshot.contacts(withNumber: candidate)
            if !found.isEmpty {
                return LookupResult(number: text, normalized: candidate, match: .exact, matches: found, snapshot: snapshot)
            }
        }
        let best = parsed.first ?? normalized.first
        if let key = normalized.suffixKey(snapshot.suffixDigits) {
            let found = snapshot.contacts(withSuffixKey: key)
            if !found.isEmpty {
                return LookupResult(number: text, normalized: best, match: .suffix, matches: found, snapshot: snapshot)
            }
        }
        return LookupResult(number: text, normalized: best, match: .none, matches: .none, snapshot: snapshot)
    }
}

extension LookupResult {
    /// `{"number","normalized","match","version","labels":{…},"contacts":[…]}` with each contact
    /// as `Contact.writeJSON` writes it, rendered straight from the index's bytes; `labels` are the
    /// organization's names for fields (only the named ones).
    public func writeJSON(labels: [ContactField: String] = [:], to output: inout [UInt8]) {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("number", number)
        writer.key("normalized")
        if let normalized { writer.value(normalized.e164) } else { writer.null() }
        writer.field("match", match.rawValue)
        writer.field("version", Int(snapshot.version))
        writer.key("labels")
        writer.writeLabels(labels)
        writer.key("contacts")
        output += writer.bytes
        snapshot.writeJSONArray(matches, to: &output)
        output.append(UInt8(ascii: "}"))
    }

    public var json: String {
        var bytes: [UInt8] = []
        writeJSON(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension IndexSnapshot {
    /// Writes `[contact, …]` of the matches, in order.
    public func writeJSONArray(_ matches: Matches, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "["))
        for (offset, ref) in refs(matches).enumerated() {
            if offset > 0 { output.append(UInt8(ascii: ",")) }
            writeJSON(ref, to: &output)
        }
        output.append(UInt8(ascii: "]"))
    }

    /// Writes one contact's JSON (the same bytes as `Contact.writeJSON`) from its record: no
    /// decoding into Swift strings, no encoder.
    public func writeJSON(_ ref: ContactRef, to output: inout [UInt8]) {
        let id = id(of: ref)
        withRecord(ref) { record in
            withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer.self, capacity: ContactRecord.fieldCount) { values in
                values.initialize(repeating: UnsafeRawBufferPointer(start: nil, count: 0))
                let version = record.decode { index, value in values[index] = value }
                JSONEscaping.appendLiteral("{\"id\":", to: &output)
                JSONEscaping.appendInteger(id, to: &output)
                JSONEscaping.appendLiteral(",\"version\":", to: &output)
                JSONEscaping.appendInteger(version, to: &output)
                JSONEscaping.appendLiteral(",\"displayName\":\"", to: &output)
                let first = values[ContactField.firstName.index]
                let last = values[ContactField.lastName.index]
                if first.count > 0 || last.count > 0 {
                    JSONEscaping.append(first, to: &output)
                    if first.count > 0, last.count > 0 { output.append(UInt8(ascii: " ")) }
                    JSONEscaping.append(last, to: &output)
                } else {
                    JSONEscaping.append(values[ContactField.organization.index], to: &output)
                }
                JSONEscaping.appendLiteral("\",\"agents\":[", to: &output)
                let agent1 = values[ContactField.agent1.index]
                let agent2 = values[ContactField.agent2.index]
                if agent1.count > 0 {
                    output.append(UInt8(ascii: "\""))
                    JSONEscaping.append(agent1, to: &output)
                    output.append(UInt8(ascii: "\""))
                }
                if agent2.count > 0 {
                    if agent1.count > 0 { output.append(UInt8(ascii: ",")) }
                    output.append(UInt8(ascii: "\""))
                    JSONEscaping.append(agent2, to: &output)
                    output.append(UInt8(ascii: "\""))
                }
                output.append(UInt8(ascii: "]"))
                for (index, key) in JSONEscaping.fieldKeys.enumerated() {
                    key.withUnsafeBufferPointer { output.append(contentsOf: $0) }
                    let phone = index == ContactField.phone1.index ? record.phone1
                        : index == ContactField.phone2.index ? record.phone2 : 0
                    if phone != 0 {
                        JSONEscaping.appendLiteral("\"+", to: &output)
                        JSONEscaping.appendInteger(Int64(phone), to: &output)
                        output.append(UInt8(ascii: "\""))
                    } else if values[index].count > 0 {
                        output.append(UInt8(ascii: "\""))
                        JSONEscaping.append(values[index], to: &output)
                        output.append(UInt8(ascii: "\""))
                    } else {
                        JSONEscaping.appendLiteral("null", to: &output)
                    }
                }
                output.append(UInt8(ascii: "}"))
                values.deinitialize()
            }
        }
    }
}

/// The pieces of the contact renderer: literals, integers, and `JSONWriter`'s escaping.
enum JSONEscaping {
    /// `,"firstName":` … for every field, rendered once.
    static let fieldKeys: [[UInt8]] = ContactField.allCases.map { Array(",\"\($0.rawValue)\":".utf8) }

    @inline(__always)
    static func appendLiteral(_ literal: StaticString, to output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    static func appendInteger(_ value: Int64, to output: inout [UInt8]) {
        if value < 0 {
            output.append(UInt8(ascii: "-"))
            appendInteger(0 - value, to: &output)
            return
        }
        if value >= 10 { appendInteger(value / 10, to: &output) }
        output.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    @inline(__always)
    static func append(_ bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        JSONWriter.appendEscaped(bytes, to: &output)
    }
}

public import Contacts
public import PhoneNumbers

/// Which way a lookup found its contacts.
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
    /// `url`: the best match's popup link, written as `"url"` when there is one.
    public func writeJSON(labels: [ContactField: String] = [:], url: String? = nil, to output: inout [UInt8]) {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("number", number)
        writer.key("normalized")
        if let normalized { writer.value(normalized.e164) } else { writer.null() }
        writer.field("match", match.rawValue)
        writer.field("version", Int(snapshot.version))
        if let url { writer.field("url", url) }
        writer.key("labels")
        writer.writeLabels(labels)
        writer.key("contacts")
        writer.rawValue { snapshot.writeJSONArray(matches, to: &$0) }
        writer.endObject()
        output += writer.bytes
    }

    /// The lookup route's answer, the snapshot's labels with it (`caller-lookup lookup --json`).
    public var json: String {
        var bytes: [UInt8] = []
        writeJSON(labels: snapshot.labels, to: &bytes)
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

    /// Writes one contact's JSON from its record, through the one contact renderer
    /// (`ContactJSON`): no decoding into Swift strings, no encoder.
    public func writeJSON(_ ref: ContactRef, to output: inout [UInt8]) {
        let id = id(of: ref)
        withRecord(ref) { record in
            withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer.self, capacity: ContactRecord.fieldCount) { values in
                values.initialize(repeating: UnsafeRawBufferPointer(start: nil, count: 0))
                let version = record.decode { index, value in values[index] = value }
                ContactJSON.write(
                    id: id, version: version, values: UnsafeBufferPointer(values), phones: (record.phone1, record.phone2),
                    to: &output)
                values.deinitialize()
            }
        }
    }
}

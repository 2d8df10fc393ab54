/// The one renderer of a contact's JSON, as the API shows it everywhere (REST answers, the change
/// feed, snapshots, lookups): `id`, `version`, `displayName`, `agents` (the set agent tags, for IVR
/// clients), then every field of the contact under its CSV column name (`null` when not set).
///
/// It works on raw UTF-8 values, so the lookup path renders straight from the index's record bytes
/// and a `Contact` from its strings, with the same bytes.
package enum ContactJSON {
    /// Writes one contact. `values[i]` is the UTF-8 of field `i` (empty when not set); a phone in
    /// `phones` that is not 0 holds the E.164 digits of `phone1`/`phone2` and replaces that field's
    /// text (the index keeps numbers as integers).
    package static func write(
        id: Int64, version: Int64, values: UnsafeBufferPointer<UnsafeRawBufferPointer>, phones: (UInt64, UInt64) = (0, 0),
        to output: inout [UInt8]
    ) {
        appendLiteral("{\"id\":", to: &output)
        appendInteger(id, to: &output)
        appendLiteral(",\"version\":", to: &output)
        appendInteger(version, to: &output)
        appendLiteral(",\"displayName\":\"", to: &output)
        let first = values[ContactField.firstName.index]
        let last = values[ContactField.lastName.index]
        if first.count > 0 || last.count > 0 {
            JSONWriter.appendEscaped(first, to: &output)
            if first.count > 0, last.count > 0 { output.append(UInt8(ascii: " ")) }
            JSONWriter.appendEscaped(last, to: &output)
        } else {
            JSONWriter.appendEscaped(values[ContactField.organization.index], to: &output)
        }
        appendLiteral("\",\"agents\":[", to: &output)
        let agent1 = values[ContactField.agent1.index]
        let agent2 = values[ContactField.agent2.index]
        if agent1.count > 0 { appendString(agent1, to: &output) }
        if agent2.count > 0 {
            if agent1.count > 0 { output.append(UInt8(ascii: ",")) }
            appendString(agent2, to: &output)
        }
        output.append(UInt8(ascii: "]"))
        for (index, key) in fieldKeys.enumerated() {
            key.withUnsafeBufferPointer { output.append(contentsOf: $0) }
            let phone = index == ContactField.phone1.index ? phones.0 : index == ContactField.phone2.index ? phones.1 : 0
            if phone != 0 {
                appendLiteral("\"+", to: &output)
                appendInteger(Int64(phone), to: &output)
                output.append(UInt8(ascii: "\""))
            } else if values[index].count > 0 {
                appendString(values[index], to: &output)
            } else {
                appendLiteral("null", to: &output)
            }
        }
        output.append(UInt8(ascii: "}"))
    }

    /// `,"firstName":` … for every field, rendered once.
    private static let fieldKeys: [[UInt8]] = ContactField.allCases.map { Array(",\"\($0.rawValue)\":".utf8) }

    @inline(__always)
    private static func appendString(_ value: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        JSONWriter.appendEscaped(value, to: &output)
        output.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    private static func appendLiteral(_ literal: StaticString, to output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    private static func appendInteger(_ value: Int64, to output: inout [UInt8]) {
        if value < 0 {
            output.append(UInt8(ascii: "-"))
            appendInteger(0 - value, to: &output)
            return
        }
        if value >= 10 { appendInteger(value / 10, to: &output) }
        output.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}

extension Contact {
    /// Writes the contact through `ContactJSON`.
    package func writeJSON(id: Int64, version: Int64, to output: inout [UInt8]) {
        var utf8: [UInt8] = []
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(values.count)
        for value in values {
            let start = utf8.count
            utf8 += value.utf8
            ranges.append(start..<utf8.count)
        }
        utf8.withUnsafeBytes { base in
            withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer.self, capacity: ranges.count) { pointers in
                for (index, range) in ranges.enumerated() {
                    pointers.initializeElement(at: index, to: UnsafeRawBufferPointer(rebasing: base[range]))
                }
                ContactJSON.write(id: id, version: version, values: UnsafeBufferPointer(pointers), to: &output)
                pointers.deinitialize()
            }
        }
    }

    /// Writes the contact through `ContactJSON` as the writer's next value.
    package func writeJSON(id: Int64, version: Int64, to writer: inout JSONWriter) {
        writer.rawValue { writeJSON(id: id, version: version, to: &$0) }
    }
}

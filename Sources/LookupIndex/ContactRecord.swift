import Contacts
import PhoneNumbers

/// The byte layout of one contact inside an index arena.
///
/// ```
/// phone1   UInt64 little-endian (E.164 digits)
/// phone2   UInt64 little-endian, 0 when not set
/// version  LEB128
/// present  3 bytes: bit i set when field i (ContactField.allCases order, phones excluded) is set
/// values   for each set field in order: LEB128 byte length, then the UTF-8 bytes
/// ```
///
/// No per-contact object, no per-field pointer: a contact costs its bytes plus a few bytes of
/// framing, and phones sit at fixed offsets so a table hit is confirmed without decoding.
enum ContactRecord {
    static let phoneFields: Set<Int> = [ContactField.phone1.index, ContactField.phone2.index]
    /// The presence bit of `email`.
    static let emailBit = UInt32(1) << UInt32(ContactField.email.index)
    /// The fields a record can hold: the presence mask has 24 bits, so a 25th field would be
    /// silently dropped; refused when the type is first used instead.
    static let fieldCount: Int = {
        let count = ContactField.allCases.count
        precondition(count <= presenceBits, "ContactRecord's presence mask has \(presenceBits) bits; ContactField has \(count) cases")
        return count
    }()
    /// The width of the presence mask (3 bytes).
    static let presenceBits = 24

    /// Appends the record of `contact` to `arena`.
    static func encode(_ contact: Contact, version: Int64, into arena: inout [UInt8]) {
        let size = encodedSize(contact, version: version)
        let offset = arena.count
        arena.append(contentsOf: repeatElement(0, count: size))
        arena.withUnsafeMutableBytes { bytes in
            _ = encode(contact, version: version, at: bytes.baseAddress! + offset)
        }
    }

    /// Writes the record of `contact` at `destination` (which has `encodedSize` bytes) and returns
    /// the bytes written. Used by the parallel build, where every record's place is known up front.
    static func encode(_ contact: Contact, version: Int64, at destination: UnsafeMutableRawPointer) -> Int {
        var position = destination
        position.storeBytes(of: contact.phone1.rawValue.littleEndian, as: UInt64.self)
        (position + 8).storeBytes(of: (contact.phone2?.rawValue ?? 0).littleEndian, as: UInt64.self)
        position += 16
        storeVarint(UInt64(max(0, version)), at: &position)
        var present: UInt32 = 0
        for index in 0..<fieldCount where !phoneFields.contains(index) && !contact.values[index].isEmpty {
            present |= 1 << UInt32(index)
        }
        position.storeBytes(of: UInt8(truncatingIfNeeded: present), as: UInt8.self)
        (position + 1).storeBytes(of: UInt8(truncatingIfNeeded: present >> 8), as: UInt8.self)
        (position + 2).storeBytes(of: UInt8(truncatingIfNeeded: present >> 16), as: UInt8.self)
        position += 3
        var remaining = present
        while remaining != 0 {
            let index = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            var value = contact.values[index]
            value.withUTF8 { utf8 in
                storeVarint(UInt64(utf8.count), at: &position)
                position.copyMemory(from: utf8.baseAddress!, byteCount: utf8.count)
                position += utf8.count
            }
        }
        return position - destination
    }

    /// Writes `value` as LEB128 at `position` and moves past it.
    @inline(__always)
    static func storeVarint(_ value: UInt64, at position: inout UnsafeMutableRawPointer) {
        var value = value
        while value >= 0x80 {
            position.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, as: UInt8.self)
            position += 1
            value >>= 7
        }
        position.storeBytes(of: UInt8(value), as: UInt8.self)
        position += 1
    }

    /// The bytes `encode` appends for `contact`.
    static func encodedSize(_ contact: Contact, version: Int64) -> Int {
        var size = 16 + varintSize(UInt64(max(0, version))) + 3
        for index in 0..<fieldCount where !phoneFields.contains(index) {
            let count = contact.values[index].utf8.count
            if count > 0 { size += varintSize(UInt64(count)) + count }
        }
        return size
    }

    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var value = value >> 7
        while value > 0 {
            size += 1
            value >>= 7
        }
        return size
    }
}

/// A read-only view of one encoded record.
struct RecordView {
    let bytes: UnsafeRawBufferPointer
    let start: Int

    @inline(__always)
    var phone1: UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: start, as: UInt64.self)) }

    @inline(__always)
    var phone2: UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: start + 8, as: UInt64.self)) }

    @inline(__always)
    func hasNumber(_ number: UInt64) -> Bool { phone1 == number || phone2 == number }

    /// Calls `body` with each set field's index and bytes, in field order, after giving the version.
    func decode(_ body: (_ fieldIndex: Int, _ value: UnsafeRawBufferPointer) -> Void) -> Int64 {
        var position = start + 16
        let version = readVarint(&position)
        let present = UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2]) << 16
        position += 3
        var remaining = present
        while remaining != 0 {
            let index = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            let length = Int(readVarint(&position))
            body(index, UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]))
            position += length
        }
        return Int64(version)
    }

    var version: Int64 {
        var position = start + 16
        return Int64(readVarint(&position))
    }

    /// Whether the record has an email, read from the presence bits without decoding.
    var hasEmail: Bool {
        var position = start + 16
        _ = readVarint(&position)
        let present = UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2]) << 16
        return present & ContactRecord.emailBit != 0
    }

    /// The bytes of one field, or an empty buffer.
    func field(_ field: ContactField) -> UnsafeRawBufferPointer {
        var result = UnsafeRawBufferPointer(start: nil, count: 0)
        _ = decode { index, value in if index == field.index { result = value } }
        return result
    }

    /// The whole record's length in bytes.
    var length: Int {
        var end = start
        _ = decode { _, value in end = value.baseAddress! - bytes.baseAddress! + value.count }
        if end == start {  // no text fields: phones, version and the presence bits only
            var position = start + 16
            _ = readVarint(&position)
            return position + 3 - start
        }
        return end - start
    }

    private func readVarint(_ position: inout Int) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    /// Rebuilds the contact (for compaction checks, tests and non-hot paths).
    func contact() -> (Contact, version: Int64) {
        var values = [String](repeating: "", count: ContactRecord.fieldCount)
        let version = decode { index, value in values[index] = String(decoding: value, as: UTF8.self) }
        values[ContactField.phone1.index] = PhoneNumber(rawValue: phone1)?.e164 ?? ""
        values[ContactField.phone2.index] = PhoneNumber(rawValue: phone2)?.e164 ?? ""
        return (Contact(trustedValues: values)!, version)
    }
}

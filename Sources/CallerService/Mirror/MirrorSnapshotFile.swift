import Contacts
import Foundation
import LookupIndex
import StoreContract

#if canImport(Glibc)
import Glibc
#endif

/// A mirror's state on disk: the organization it follows and every contact at one version, so a
/// restarted mirror answers at once — even while the API is down — and then catches up.
///
/// Binary, little-endian: the magic `CLMIRROR2\n`; the organization (id, version, suffix digits,
/// name, region); the snapshot's version and contact count; then per contact its id, version and
/// the 22 values, each as a `UInt32` length and UTF-8 bytes; then the count of remembered
/// credentials and for each a login and the mirror's own yescrypt hash of the password the API
/// accepted (so callers verified before are let in after a restart while the API is down); then
/// the count of field labels and for each the field's name and the label. A file of the first
/// format (`CLMIRROR1\n`, no labels) is still read. The
/// file is created with mode 0600. Written to a temporary file in the same
/// directory, `fsync`ed, renamed over the old one and the directory `fsync`ed: a crash leaves the
/// old file or the new one, never a torn one.
enum MirrorSnapshotFile {
    static let magic = Array("CLMIRROR2\n".utf8)
    /// The first format, without labels.
    static let firstMagic = Array("CLMIRROR1\n".utf8)

    static func write(
        organization: Organization, snapshot: IndexSnapshot, credentials: [String: String] = [:], to path: String
    ) throws {
        var bytes = magic
        bytes.reserveCapacity(64 + snapshot.count * 200)
        append(organization.id, to: &bytes)
        append(organization.version, to: &bytes)
        append(Int64(organization.suffixDigits), to: &bytes)
        append(organization.name, to: &bytes)
        append(organization.defaultRegion, to: &bytes)
        append(snapshot.version, to: &bytes)
        let contacts = snapshot.allContacts()
        append(Int64(contacts.count), to: &bytes)
        for stored in contacts {
            append(stored.id, to: &bytes)
            append(stored.version, to: &bytes)
            for value in stored.contact.values { append(value, to: &bytes) }
        }
        append(Int64(credentials.count), to: &bytes)
        for (login, hash) in credentials.sorted(by: { $0.key < $1.key }) {
            append(login, to: &bytes)
            append(hash, to: &bytes)
        }
        let labels = ContactField.allCases.compactMap { field in snapshot.labels[field].map { (field, $0) } }
        append(Int64(labels.count), to: &bytes)
        for (field, label) in labels {
            append(field.rawValue, to: &bytes)
            append(label, to: &bytes)
        }
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw MirrorError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        // The file holds password hashes: the owner's alone, also when a leftover temporary file
        // of another mode was reused.
        fchmod(descriptor, 0o600)
        var written = 0
        let failure: String? = bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                written += count
            }
            return fsync(descriptor) == 0 ? nil : String(cString: strerror(errno))
        }
        close(descriptor)
        if let failure {
            unlink(temporary)
            throw MirrorError("cannot write \(temporary): \(failure)")
        }
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw MirrorError("cannot replace \(path): \(message)")
        }
        // (Not NSString's deletingLastPathComponent: this Foundation traps on a bare file name.)
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ""
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    static func read(from path: String) throws -> (
        organization: Organization, snapshot: IndexSnapshot, credentials: [String: String]
    ) {
        guard let data = FileManager.default.contents(atPath: path) else { throw MirrorError("cannot read \(path)") }
        var reader = Reader(bytes: Array(data))
        let format = reader.take(magic.count)
        guard format == magic[...] || format == firstMagic[...] else { throw MirrorError("\(path) is not a mirror snapshot") }
        let id = try reader.int64()
        let organizationVersion = try reader.int64()
        let suffixDigits = Int(try reader.int64())
        let name = try reader.string()
        let region = try reader.string()
        let version = try reader.int64()
        let count = try reader.int64()
        guard count >= 0, count <= Int64(reader.remaining / 20 + 1) else { throw MirrorError("\(path) is damaged (count)") }
        var contacts: [StoredContact] = []
        contacts.reserveCapacity(Int(count))
        for _ in 0..<count {
            let contactID = try reader.int64()
            let contactVersion = try reader.int64()
            let values = try ContactField.allCases.map { _ in try reader.string() }
            guard let contact = Contact(trustedValues: values) else { throw MirrorError("\(path) is damaged (contact \(contactID))") }
            contacts.append(StoredContact(id: contactID, version: contactVersion, contact: contact))
        }
        let credentialCount = try reader.int64()
        guard credentialCount >= 0, credentialCount <= Int64(reader.remaining / 8 + 1) else {
            throw MirrorError("\(path) is damaged (credentials)")
        }
        var credentials: [String: String] = [:]
        for _ in 0..<credentialCount { credentials[try reader.string()] = try reader.string() }
        var labels: [ContactField: String] = [:]
        if format == magic[...] {
            let labelCount = try reader.int64()
            guard labelCount >= 0, labelCount <= Int64(ContactField.allCases.count) else {
                throw MirrorError("\(path) is damaged (labels)")
            }
            for _ in 0..<labelCount {
                guard let field = ContactField(rawValue: try reader.string()) else { throw MirrorError("\(path) is damaged (labels)") }
                labels[field] = try reader.string()
            }
        }
        guard reader.remaining == 0 else { throw MirrorError("\(path) is damaged (trailing bytes)") }
        let organization = Organization(
            id: id, name: name, defaultRegion: region, suffixDigits: suffixDigits, version: organizationVersion, labels: labels)
        let snapshot = IndexSnapshot.build(contacts, version: version, suffixDigits: suffixDigits).withLabels(labels)
        return (organization, snapshot, credentials)
    }

    private static func append(_ value: Int64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private static func append(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = text.utf8
        withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes += $0 }
        bytes += utf8
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        var remaining: Int { bytes.count - position }

        mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, count <= remaining else { return nil }
            defer { position += count }
            return bytes[position..<(position + count)]
        }

        mutating func int64() throws -> Int64 {
            guard let slice = take(8) else { throw MirrorError("mirror snapshot ends early") }
            return slice.reversed().reduce(0) { $0 << 8 | Int64($1) }
        }

        mutating func string() throws -> String {
            guard let header = take(4) else { throw MirrorError("mirror snapshot ends early") }
            let length = header.reversed().reduce(0) { $0 << 8 | Int($1) }
            guard let slice = take(length) else { throw MirrorError("mirror snapshot ends early") }
            return String(decoding: slice, as: UTF8.self)
        }
    }
}

import Contacts
import Foundation
import LookupIndex
import PhoneNumbers
import StoreContract

/// A credential a mirror verified with its API and keeps, so that the caller is let in while the
/// API is down (and after a restart then): a password as the mirror's own yescrypt hash of it, a
/// token as its SHA-256 (tokens are 192 random bits: nothing to guess from the digest).
struct KeptCredential: Equatable, Sendable {
    enum Kind: UInt8, Sendable {
        case password = 0
        case token = 1
    }

    /// A login, or a token's SHA-256 in hexadecimal.
    struct Key: Hashable, Sendable {
        let kind: Kind
        let name: String
    }

    /// The yescrypt hash of a password; empty for a token (its key is its digest).
    var hash: String
    /// What the API said the credential may do.
    var scope: AccessScope
    /// The organization the API verified it for; `nil` for one read from the snapshot file (the
    /// followed organization's).
    var organizationID: Int64?
    /// The API's credentials moved since it was verified (a token revoked, a password changed):
    /// not trusted while the API is down until verified again; not written to the file.
    var doubted = false
}

/// A mirror's state on disk: the organization it follows, its index at one version, and the
/// credentials it verified, so a restarted mirror answers at once — even while the API is down —
/// and then catches up.
///
/// An `IndexFile` (mapped and used in place: a mirror of a million contacts answers within a
/// second of its start), whose attachment holds the organization (id, version, suffix digits,
/// name, region), the API's credentials version they were verified at, and the kept credentials
/// (`KeptCredential`: kind, login or token digest, hash, scope) — so callers verified before are
/// let in after a restart while the API is down. Mode 0600, replaced atomically. A file of the
/// earlier formats (`CLMIRROR1\n`, `CLMIRROR2\n`: every contact's values, passwords only) is
/// still read, once, after an upgrade.
enum MirrorSnapshotFile {
    static let magic = Array("CLMIRROR2\n".utf8)
    /// The first format, without labels.
    static let firstMagic = Array("CLMIRROR1\n".utf8)
    /// The attachment's own mark, so that an API node's index file is not taken for a mirror's.
    static let attachmentMagic = Array("CLMIRROR3\n".utf8)

    /// What a snapshot file holds.
    struct Contents {
        var organization: Organization
        var snapshot: IndexSnapshot
        var credentials: [KeptCredential.Key: KeptCredential] = [:]
        /// The API's credentials version the credentials were verified at (`nil`: not known).
        var credentialsVersion: Int64?
    }

    /// Writes `contents`; doubted credentials are left out.
    static func write(_ contents: Contents, to path: String) throws {
        let organization = contents.organization
        var bytes = attachmentMagic
        append(organization.id, to: &bytes)
        append(organization.version, to: &bytes)
        append(Int64(organization.suffixDigits), to: &bytes)
        append(organization.name, to: &bytes)
        append(organization.defaultRegion, to: &bytes)
        append(contents.credentialsVersion ?? -1, to: &bytes)
        let kept = contents.credentials.filter { !$0.value.doubted }
            .sorted { ($0.key.kind.rawValue, $0.key.name) < ($1.key.kind.rawValue, $1.key.name) }
        append(Int64(kept.count), to: &bytes)
        for (key, credential) in kept {
            bytes.append(key.kind.rawValue)
            append(key.name, to: &bytes)
            append(credential.hash, to: &bytes)
            append(credential.scope.rawValue, to: &bytes)
        }
        let snapshot = contents.snapshot
        do {
            try IndexFile.write(
                snapshot, organizationID: organization.id, planFingerprint: NumberPlanFile.current.fingerprint, attachment: bytes,
                to: path)
        } catch let error as IndexFileError {
            throw MirrorError(error.description)
        }
    }

    static func read(from path: String) throws -> Contents {
        let contents: IndexFile.Contents
        do {
            contents = try IndexFile.read(from: path)
        } catch let error as IndexFileError {
            if let legacy = try readEarlierFormat(from: path) { return legacy }
            throw MirrorError(error.description)
        }
        var reader = Reader(bytes: contents.attachment)
        guard reader.take(attachmentMagic.count) == attachmentMagic[...] else { throw MirrorError("\(path) is an index file, not a mirror's") }
        let id = try reader.int64()
        let organizationVersion = try reader.int64()
        let suffixDigits = Int(try reader.int64())
        let name = try reader.string()
        let region = try reader.string()
        let credentialsVersion = try reader.int64()
        let count = try reader.int64()
        guard count >= 0, count <= Int64(reader.remaining / 13 + 1) else { throw MirrorError("\(path) is damaged (credentials)") }
        var credentials: [KeptCredential.Key: KeptCredential] = [:]
        for _ in 0..<count {
            guard let kindByte = reader.take(1)?.first, let kind = KeptCredential.Kind(rawValue: kindByte) else {
                throw MirrorError("\(path) is damaged (credentials)")
            }
            let key = KeptCredential.Key(kind: kind, name: try reader.string())
            let hash = try reader.string()
            guard let scope = AccessScope(rawValue: try reader.string()) else { throw MirrorError("\(path) is damaged (credentials)") }
            credentials[key] = KeptCredential(hash: hash, scope: scope)
        }
        guard id == contents.organizationID, suffixDigits == contents.snapshot.suffixDigits, reader.remaining == 0 else {
            throw MirrorError("\(path) is damaged (its organization)")
        }
        let organization = Organization(
            id: id, name: name, defaultRegion: region, suffixDigits: suffixDigits, version: organizationVersion,
            labels: contents.snapshot.labels)
        return Contents(
            organization: organization, snapshot: contents.snapshot, credentials: credentials,
            credentialsVersion: credentialsVersion < 0 ? nil : credentialsVersion)
    }

    /// Login → yescrypt hash, as the earlier formats kept passwords.
    private static func readPasswords(_ reader: inout Reader, path: String) throws -> [KeptCredential.Key: KeptCredential] {
        let credentialCount = try reader.int64()
        guard credentialCount >= 0, credentialCount <= Int64(reader.remaining / 8 + 1) else {
            throw MirrorError("\(path) is damaged (credentials)")
        }
        var credentials: [KeptCredential.Key: KeptCredential] = [:]
        for _ in 0..<credentialCount {
            let login = try reader.string()
            credentials[KeptCredential.Key(kind: .password, name: login)] = KeptCredential(hash: try reader.string(), scope: .lookup)
        }
        return credentials
    }

    /// A file of the formats before the index file (every contact's values), or `nil` when the
    /// file is not one.
    private static func readEarlierFormat(from path: String) throws -> Contents? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var reader = Reader(bytes: Array(data))
        let format = reader.take(magic.count)
        guard format == magic[...] || format == firstMagic[...] else { return nil }
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
        let credentials = try readPasswords(&reader, path: path)
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
        return Contents(organization: organization, snapshot: snapshot, credentials: credentials)
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

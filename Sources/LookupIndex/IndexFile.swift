public import Contacts
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An index snapshot on disk, laid out so that the file is mapped and used in place: a node
/// restarted on a million contacts answers once the file is mapped and checked, instead of after
/// reading every row and building the tables again.
///
/// Little-endian (the byte-order mark refuses a file from another kind of machine). A 128-byte
/// head, a table of sections, then the sections, each starting on a 64-byte boundary:
///
/// ```
/// head     "CLINDEX\n", format (UInt32), byte-order mark (UInt32), snapshot version (Int64),
///          organization id (Int64), suffix digits (UInt32), section count (UInt32),
///          checksum of the head and the section table (UInt64), zeros to 128 bytes
/// table    per section: offset, byte count, checksum (UInt64 each)
/// sections the base's arena, starts, ids; the exact table's slots and runs; the suffix and email
///          tables' slots and runs (the arrays as they lie in memory); the overlay (removed
///          ordinals, then each recent contact's id and record); meta (the number plan's
///          fingerprint, the labels); an attachment the caller keeps with the index (a mirror's
///          organization and credentials)
/// ```
///
/// Every section has its own checksum, all checked before the file is used, so a damaged file is
/// refused, never half read. The file is written to a temporary file in the same directory,
/// `fsync`ed and renamed over the old one (then the directory is `fsync`ed): a crash leaves the
/// old file or the new one. A mapped file is never written in place, so a node reading one is not
/// disturbed by the next write. Mode `0600`.
public enum IndexFile {
    static let magic = Array("CLINDEX\n".utf8)
    static let format: UInt32 = 1
    static let byteOrderMark: UInt32 = 0x0102_0304
    static let headSize = 128
    static let sectionAlignment = 64

    private enum Section: Int, CaseIterable {
        case arena, starts, ids, exactSlots, exactRuns, suffixSlots, suffixRuns, emailSlots, emailRuns, overlay, meta, attachment
    }

    /// What a file holds.
    public struct Contents: Sendable {
        public let snapshot: IndexSnapshot
        public let organizationID: Int64
        /// The fingerprint of the number plan the index was built under.
        public let planFingerprint: String
        public let attachment: [UInt8]

        /// Why the file cannot serve `organizationID` at the store's `storeVersion`, or `nil` when
        /// it can (and the change log brings it forward).
        public func staleness(organizationID: Int64, suffixDigits: Int, planFingerprint: String, storeVersion: Int64) -> String? {
            if organizationID != self.organizationID {
                return "it is organization \(self.organizationID)'s, not \(organizationID)'s"
            }
            if suffixDigits != snapshot.suffixDigits {
                return "it matches on \(snapshot.suffixDigits) suffix digits, the organization on \(suffixDigits)"
            }
            if planFingerprint != self.planFingerprint {
                return "it was built under number plan \(self.planFingerprint), this node runs \(planFingerprint)"
            }
            if snapshot.version > storeVersion {
                return "it is at version \(snapshot.version), ahead of the store's \(storeVersion) (a store restored from a backup?)"
            }
            return nil
        }
    }

    // MARK: Writing

    /// Writes `snapshot` (its base and overlay) to `path`, atomically.
    public static func write(
        _ snapshot: IndexSnapshot, organizationID: Int64, planFingerprint: String, attachment: [UInt8] = [], to path: String
    ) throws {
        let base = snapshot.base
        var overlay: [UInt8] = []
        append(UInt64(snapshot.overlay.removed.count), to: &overlay)
        for ordinal in snapshot.overlay.removed.sorted() { append(UInt64(ordinal), to: &overlay) }
        append(UInt64(snapshot.overlay.entries.count), to: &overlay)
        for (id, entry) in snapshot.overlay.entries.sorted(by: { $0.key < $1.key }) {
            append(UInt64(bitPattern: id), to: &overlay)
            append(entry.record, to: &overlay)
        }
        var meta: [UInt8] = []
        append(Array(planFingerprint.utf8), to: &meta)
        let labels = ContactField.allCases.compactMap { field in snapshot.labels[field].map { (field, $0) } }
        append(UInt64(labels.count), to: &meta)
        for (field, label) in labels {
            append(Array(field.rawValue.utf8), to: &meta)
            append(Array(label.utf8), to: &meta)
        }
        let sections: [SectionBytes] = Section.allCases.map { section in
            switch section {
            case .arena: SectionBytes(base.arena)
            case .starts: SectionBytes(base.starts)
            case .ids: SectionBytes(base.ids)
            case .exactSlots: SectionBytes(base.exact.storage)
            case .exactRuns: SectionBytes(base.exact.runs)
            case .suffixSlots: SectionBytes(base.suffix.slots)
            case .suffixRuns: SectionBytes(base.suffix.runs)
            case .emailSlots: SectionBytes(base.email.slots)
            case .emailRuns: SectionBytes(base.email.runs)
            case .overlay: SectionBytes(Slab(overlay))
            case .meta: SectionBytes(Slab(meta))
            case .attachment: SectionBytes(Slab(attachment))
            }
        }
        // The head and table, with every section's place and checksum.
        var head = [UInt8](repeating: 0, count: headSize)
        var table: [UInt8] = []
        var offset = aligned(headSize + sections.count * 24)
        for section in sections {
            append(UInt64(offset), to: &table)
            append(UInt64(section.count), to: &table)
            append(try section.withUnsafeBytes { checksum($0) }, to: &table)
            offset = aligned(offset + section.count)
        }
        head.replaceSubrange(0..<8, with: magic)
        store(format, at: 8, in: &head)
        store(byteOrderMark, at: 12, in: &head)
        store(UInt64(bitPattern: snapshot.version), at: 16, in: &head)
        store(UInt64(bitPattern: organizationID), at: 24, in: &head)
        store(UInt32(snapshot.suffixDigits), at: 32, in: &head)
        store(UInt32(sections.count), at: 36, in: &head)
        store((head + table).withUnsafeBytes { checksum($0) }, at: 40, in: &head)

        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw IndexFileError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        // The owner's alone, also when a leftover temporary file of another mode was reused.
        fchmod(descriptor, 0o600)
        var position = 0
        let padding = [UInt8](repeating: 0, count: sectionAlignment)
        func put(_ bytes: UnsafeRawBufferPointer) throws {
            var written = 0
            while written < bytes.count {
                let count = Glibc.write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw IndexFileError("cannot write \(temporary): \(String(cString: strerror(errno)))")
                }
                written += count
            }
            position += bytes.count
        }
        do {
            try (head + table).withUnsafeBytes { try put($0) }
            for section in sections {
                try padding.withUnsafeBytes { try put(UnsafeRawBufferPointer(rebasing: $0[0..<(aligned(position) - position)])) }
                try section.withUnsafeBytes { try put($0) }
            }
            guard fsync(descriptor) == 0 else { throw IndexFileError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
            close(descriptor)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw IndexFileError("cannot replace \(path): \(message)")
        }
        // (Not NSString's deletingLastPathComponent: this Foundation traps on a bare file name.)
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ""
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    // MARK: Reading

    /// Maps the file at `path` and checks it whole; the snapshot it returns reads the mapping in
    /// place. Throws `IndexFileError` saying what is wrong: missing, not an index file, another
    /// format, damaged (which part).
    public static func read(from path: String) throws -> Contents {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw IndexFileError(errno == ENOENT ? "\(path) does not exist" : "cannot open \(path): \(String(cString: strerror(errno)))",
                                 missing: errno == ENOENT)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw IndexFileError("cannot read \(path): \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        guard size >= headSize else { throw IndexFileError("\(path) is damaged: \(size) bytes, shorter than its head") }
        guard let mapping = MappedFile(descriptor: descriptor, size: size) else {
            throw IndexFileError("cannot map \(path): \(String(cString: strerror(errno)))")
        }
        let file = mapping.bytes
        guard Array(file[0..<8]) == magic else { throw IndexFileError("\(path) is not an index file") }
        guard load(UInt32.self, at: 12, in: file) == byteOrderMark else {
            throw IndexFileError("\(path) was written on a machine of another byte order")
        }
        let fileFormat = load(UInt32.self, at: 8, in: file)
        guard fileFormat == format else { throw IndexFileError("\(path) is of format \(fileFormat); this version reads format \(format)") }
        let sectionCount = Int(load(UInt32.self, at: 36, in: file))
        let tableEnd = headSize + sectionCount * 24
        guard sectionCount == Section.allCases.count, tableEnd <= size else { throw IndexFileError("\(path) is damaged: its section table") }
        var head = Array(file[0..<tableEnd])
        store(UInt64(0), at: 40, in: &head)
        guard head.withUnsafeBytes({ checksum($0) }) == load(UInt64.self, at: 40, in: file) else {
            throw IndexFileError("\(path) is damaged: its head does not match its checksum")
        }
        var places: [(offset: Int, count: Int)] = []
        for section in Section.allCases {
            let entry = headSize + section.rawValue * 24
            let offset = load(UInt64.self, at: entry, in: file)
            let count = load(UInt64.self, at: entry + 8, in: file)
            guard offset % UInt64(sectionAlignment) == 0, offset <= UInt64(size), count <= UInt64(size) - offset else {
                throw IndexFileError("\(path) is damaged: section \(section) lies outside the file")
            }
            let bytes = UnsafeRawBufferPointer(rebasing: file[Int(offset)..<Int(offset + count)])
            guard checksum(bytes) == load(UInt64.self, at: entry + 16, in: file) else {
                throw IndexFileError("\(path) is damaged: section \(section) does not match its checksum")
            }
            places.append((Int(offset), Int(count)))
        }
        // Between the sections only zeros, and nothing after the last: every byte is accounted for.
        var end = tableEnd
        for place in places.sorted(by: { ($0.offset, $0.count) < ($1.offset, $1.count) }) {
            guard place.offset >= end, file[end..<place.offset].allSatisfy({ $0 == 0 }) else {
                throw IndexFileError("\(path) is damaged: bytes between its sections")
            }
            end = place.offset + place.count
        }
        guard end == size else { throw IndexFileError("\(path) is damaged: \(size - end) bytes after its last section") }
        func slab<Element: BitwiseCopyable>(_ section: Section, _: Element.Type) throws -> Slab<Element> {
            let (offset, count) = places[section.rawValue]
            guard count % MemoryLayout<Element>.stride == 0 else { throw IndexFileError("\(path) is damaged: section \(section)'s length") }
            return Slab(mapping, offset: offset, count: count / MemoryLayout<Element>.stride)
        }
        func owned(_ section: Section) -> [UInt8] {
            let (offset, count) = places[section.rawValue]
            return Array(file[offset..<(offset + count)])
        }
        let arena = try slab(.arena, UInt8.self)
        let starts = try slab(.starts, UInt32.self)
        let ids = try slab(.ids, Int64.self)
        let exactSlots = try slab(.exactSlots, UInt8.self)
        guard exactSlots.count > 0, exactSlots.count % NumberTable.slotSize == 0 else {
            throw IndexFileError("\(path) is damaged: the exact table's length")
        }
        let suffixSlots = try slab(.suffixSlots, UInt64.self)
        let emailSlots = try slab(.emailSlots, UInt64.self)
        guard suffixSlots.count > 0, emailSlots.count > 0 else { throw IndexFileError("\(path) is damaged: an empty table") }
        // The records' places: in order, inside the arena; ids ascending (the rest the checksums vouch for).
        let consistent = starts.count == ids.count
            && starts.withUnsafeBufferPointer { starts in
                zip(starts, starts.dropFirst()).allSatisfy { $0 < $1 } && (starts.last.map { Int($0) + 20 <= arena.count } ?? true)
            }
            && ids.withUnsafeBufferPointer { ids in zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 } }
        guard consistent else { throw IndexFileError("\(path) is damaged: its records' places") }
        let base = BaseIndex(
            arena: arena, starts: starts, ids: ids,
            exact: NumberTable(storage: exactSlots, runs: try slab(.exactRuns, UInt32.self)),
            suffix: RefTable(slots: suffixSlots, runs: try slab(.suffixRuns, UInt32.self)),
            email: RefTable(slots: emailSlots, runs: try slab(.emailRuns, UInt32.self)))
        let version = Int64(bitPattern: load(UInt64.self, at: 16, in: file))
        let suffixDigits = Int(load(UInt32.self, at: 32, in: file))
        var meta = Reader(data: owned(.meta), path: path)
        let planFingerprint = String(decoding: try meta.bytes(), as: UTF8.self)
        var labels: [ContactField: String] = [:]
        for _ in 0..<(try meta.count(atMost: ContactField.allCases.count)) {
            guard let field = ContactField(rawValue: String(decoding: try meta.bytes(), as: UTF8.self)) else {
                throw IndexFileError("\(path) is damaged: a label's field")
            }
            labels[field] = String(decoding: try meta.bytes(), as: UTF8.self)
        }
        // The overlay, replayed as the changes that made it.
        var overlay = Reader(data: owned(.overlay), path: path)
        var removed: [UInt32] = []
        for _ in 0..<(try overlay.count(atMost: ids.count)) {
            let ordinal = try overlay.uint64()
            guard ordinal < UInt64(ids.count) else { throw IndexFileError("\(path) is damaged: a removed contact") }
            removed.append(UInt32(ordinal))
        }
        var changes: [ContactChange] = []
        var upserted: Set<Int64> = []
        for _ in 0..<(try overlay.count(atMost: overlay.remaining / 36)) {
            let id = Int64(bitPattern: try overlay.uint64())
            let record = try overlay.bytes()
            guard record.count >= 20 else { throw IndexFileError("\(path) is damaged: contact \(id)'s record") }
            let (contact, contactVersion) = record.withUnsafeBytes { RecordView(bytes: $0, start: 0).contact() }
            changes.append(.upsert(StoredContact(id: id, version: contactVersion, contact: contact)))
            upserted.insert(id)
        }
        for ordinal in removed where !upserted.contains(ids[Int(ordinal)]) {
            changes.append(.delete(id: ids[Int(ordinal)], version: version))
        }
        let snapshot = IndexSnapshot(version: version, suffixDigits: suffixDigits, base: base, overlay: Overlay(), labels: labels)
            .applying(changes, version: version)
        return Contents(
            snapshot: snapshot, organizationID: Int64(bitPattern: load(UInt64.self, at: 24, in: file)),
            planFingerprint: planFingerprint, attachment: owned(.attachment))
    }

    // MARK: Checksum

    /// A 64-bit checksum of `bytes`: four independent multiply-rotate lanes over 32-byte blocks
    /// (several gigabytes a second), then the tail, then a final mix. Detects damage, not forgery:
    /// the file is the node's own, mode 0600.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
        let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        @inline(__always) func round(_ lane: UInt64, _ input: UInt64) -> UInt64 {
            ((lane &+ input &* prime2) << 31 | (lane &+ input &* prime2) >> 33) &* prime1
        }
        var lanes = (prime1 &+ prime2, prime2, UInt64(0), 0 &- prime1)
        var position = 0
        let count = bytes.count
        while position + 32 <= count {
            lanes.0 = round(lanes.0, bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            lanes.1 = round(lanes.1, bytes.loadUnaligned(fromByteOffset: position + 8, as: UInt64.self))
            lanes.2 = round(lanes.2, bytes.loadUnaligned(fromByteOffset: position + 16, as: UInt64.self))
            lanes.3 = round(lanes.3, bytes.loadUnaligned(fromByteOffset: position + 24, as: UInt64.self))
            position += 32
        }
        var hash = UInt64(count) &* prime1
        for lane in [lanes.0, lanes.1, lanes.2, lanes.3] { hash = round(hash ^ round(0, lane), prime1) }
        while position < count {
            hash = round(hash, UInt64(bytes[position]))
            position += 1
        }
        hash ^= hash >> 33
        hash &*= prime2
        hash ^= hash >> 29
        return hash
    }

    // MARK: Bytes

    private static func aligned(_ offset: Int) -> Int { (offset + sectionAlignment - 1) / sectionAlignment * sectionAlignment }

    /// A section's bytes, read where they lie.
    private struct SectionBytes {
        let count: Int
        let withBytes: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void

        init<Element>(_ slab: Slab<Element>) {
            count = slab.byteCount
            withBytes = { body in try slab.withUnsafeBytes(body) }
        }

        func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
            var result: R?
            try withBytes { result = try body($0) }
            return result!
        }
    }

    private static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private static func append(_ data: [UInt8], to bytes: inout [UInt8]) {
        append(UInt64(data.count), to: &bytes)
        bytes += data
    }

    private static func store<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: $0) }
    }

    private static func load<T: FixedWidthInteger>(_: T.Type, at offset: Int, in bytes: UnsafeRawBufferPointer) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    private struct Reader {
        let data: [UInt8]
        let path: String
        var position = 0

        var remaining: Int { data.count - position }

        mutating func uint64() throws -> UInt64 {
            guard remaining >= 8 else { throw IndexFileError("\(path) is damaged: a section ends early") }
            defer { position += 8 }
            return data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: position, as: UInt64.self)) }
        }

        mutating func count(atMost limit: Int) throws -> Int {
            let value = try uint64()
            guard value <= UInt64(max(0, limit)) else { throw IndexFileError("\(path) is damaged: a count of \(value)") }
            return Int(value)
        }

        mutating func bytes() throws -> [UInt8] {
            let length = try uint64()
            guard length <= UInt64(remaining) else { throw IndexFileError("\(path) is damaged: a section ends early") }
            defer { position += Int(length) }
            return Array(data[position..<(position + Int(length))])
        }
    }
}

/// Why an index file was not used.
public struct IndexFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// The file does not exist (a first start, not a fault).
    public let missing: Bool

    init(_ description: String, missing: Bool = false) {
        self.description = description
        self.missing = missing
    }
}

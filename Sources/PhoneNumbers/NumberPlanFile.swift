import CPhoneNumbers
import Foundation
import Synchronization

/// A numbering plan as data: libphonenumber's metadata in caller-lookup's own text format, one
/// line per region or non-geographic entity (`scripts/number-plan/convert.py` writes it from any
/// release of PyPI's `phonenumbers`; the repository ships the current one). The process runs with
/// one plan, chosen at start (`NumberPlanFile.use`), so a newer release of the metadata is a file
/// to drop in and a restart, not a rebuild.
public struct NumberPlanFile: Sendable {
    /// The metadata's libphonenumber version (`9.0.43`).
    public let version: String
    /// `fnv1a64:` and 16 hex digits over the file's region lines: two plans answer alike only when
    /// their fingerprints agree.
    public let fingerprint: String
    /// Where it was read from; `nil` for the C++ library's compiled-in metadata.
    public let path: String?
    let regions: [RegionMetadata]

    /// Reads and checks a plan file: its version, its fingerprint against its content, and every
    /// region line; throws what is wrong and where.
    public static func load(path: String) throws(NumberPlanFileError) -> NumberPlanFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NumberPlanFileError("The number plan \(path) cannot be read (missing, or not readable by this user).")
        }
        return try parse(Array(data), path: path)
    }

    static func parse(_ bytes: [UInt8], path: String) throws(NumberPlanFileError) -> NumberPlanFile {
        var version: String?
        var fingerprint: String?
        var bodyStart: Int?
        var position = 0
        var lineNumber = 0
        // The head: comments, then `version` and `fingerprint`; the fingerprint covers every byte after its line.
        while position < bytes.count, bodyStart == nil {
            let end = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            lineNumber += 1
            let line = String(decoding: bytes[position..<end], as: UTF8.self)
            position = min(end + 1, bytes.count)
            if line.hasPrefix("#") || line.isEmpty { continue }
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw NumberPlanFileError("\(path), line \(lineNumber): expected 'version' or 'fingerprint', a tab and a value.") }
            switch parts[0] {
            case "version": version = parts[1]
            case "fingerprint":
                fingerprint = parts[1]
                bodyStart = position
            default: throw NumberPlanFileError("\(path), line \(lineNumber): unknown header '\(parts[0].prefix(40))' before the fingerprint.")
            }
        }
        guard let version, !version.isEmpty else { throw NumberPlanFileError("\(path) is not a number plan: it names no version.") }
        guard let fingerprint, let bodyStart else { throw NumberPlanFileError("\(path) is not a number plan: it has no fingerprint line.") }
        let body = bytes[bodyStart...]
        let computed = Self.fingerprint(of: body)
        guard computed == fingerprint else {
            throw NumberPlanFileError(
                "The number plan \(path) does not match its fingerprint (it says \(fingerprint.prefix(40)), its content is \(computed)): the file was changed or cut short. Regenerate it with scripts/update-number-plan.sh.")
        }
        var regions: [RegionMetadata] = []
        var declared: Int?
        for (offset, line) in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let number = lineNumber + offset + 1
            guard !line.isEmpty else { continue }
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("regions\t") {
                declared = Int(text.dropFirst("regions\t".count))
                continue
            }
            guard let region = RegionMetadata(line: Substring(text)) else {
                throw NumberPlanFileError("\(path), line \(number): not a region line (\(text.prefix(20))…): expected \(11 + 4 * NumberDescriptionKind.allCases.count) tab-separated fields.")
            }
            regions.append(region)
        }
        guard let declared, declared == regions.count, !regions.isEmpty else {
            throw NumberPlanFileError("\(path) holds \(regions.count) region lines, not the \(declared.map(String.init) ?? "?") it declares.")
        }
        return NumberPlanFile(version: version, fingerprint: fingerprint, path: path, regions: regions)
    }

    /// The file's text of these regions: what `convert.py` writes, for the C++ library's own metadata.
    public var text: String {
        let lines = regions.map(\.line).joined(separator: "\n")
        let body = "regions\t\(regions.count)\n\(lines)\n"
        return """
            # caller-lookup number plan: the numbering metadata compiled into the C++ libphonenumber \(version).
            version\t\(version)
            fingerprint\t\(Self.fingerprint(of: Array(body.utf8)[...]))

            """ + body
    }

    static func fingerprint(of bytes: ArraySlice<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The metadata compiled into the C++ libphonenumber this build links (Debian's): the oracle
    /// of the C++ differential, and what `number-plan export` writes.
    public static let library: NumberPlanFile = {
        cpn_initialize()
        var regions: [RegionMetadata] = []
        if let raw = cpn_plan_metadata() {
            regions = String(cString: raw).split(separator: "\n").compactMap(RegionMetadata.init(line:))
            free(raw)
        }
        let version = PhoneNumberLibrary.libraryVersion
        return NumberPlanFile(version: version, fingerprint: "", path: nil, regions: regions).withFingerprint()
    }()

    private func withFingerprint() -> NumberPlanFile {
        let body = "regions\t\(regions.count)\n" + regions.map(\.line).joined(separator: "\n") + "\n"
        return NumberPlanFile(version: version, fingerprint: Self.fingerprint(of: Array(body.utf8)[...]), path: path, regions: regions)
    }

    /// The plan the repository ships (libphonenumber's current metadata), beside this module.
    public static var shippedPath: String? { Bundle.module.path(forResource: "number-plan", ofType: "txt") }

    private static let chosen = Mutex<NumberPlanFile?>(nil)

    /// The plan this process runs with: the one `use` chose, else the shipped file.
    public static var current: NumberPlanFile {
        chosen.withLock { chosen in
            if let chosen { return chosen }
            let loaded: NumberPlanFile
            do {
                guard let path = shippedPath else { throw NumberPlanFileError("The shipped number plan is missing from this installation.") }
                loaded = try load(path: path)
            } catch {
                // A build without its resources still validates: by the C++ library's own metadata.
                loaded = library
            }
            chosen = loaded
            return loaded
        }
    }

    /// Chooses the plan this process runs with; call it at start, before anything validates a
    /// number (later calls cannot change plans already compiled).
    public static func use(_ plan: NumberPlanFile) {
        chosen.withLock { $0 = plan }
    }
}

/// A number plan file that cannot be used; nothing was loaded.
public struct NumberPlanFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

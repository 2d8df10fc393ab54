import Contacts
import Foundation
public import PhoneNumbers
public import StoreContract

/// What makes a sync source acceptable, checked when it is added (from the command line or the
/// API), so a source that could never import is refused with the reason then, not at 3 a.m.
public enum SyncRules {
    /// The shortest schedule: once a minute.
    public static let minimumIntervalSeconds = 60
    /// The longest: once a week.
    public static let maximumIntervalSeconds = 7 * 86_400
    static let maximumHeaders = 20

    /// A definition the rules refuse (422 on the API).
    static func refused(_ message: String) -> InputError { InputError(message, kind: .refused) }

    /// A definition from the command line's forms: `--every 15m`, `--header 'Name: value'`,
    /// `--map FIELD=SOURCE`; checked.
    public static func definition(
        url: String, format: String?, mode: String?, every: String?, headers: [String], mappings: [String],
        items: String?, next: String?, region: String?, maxDeletePercent: Int?, validator: PhoneNumberValidator
    ) throws -> SyncDefinition {
        guard let format = SyncDefinition.Format(rawValue: (format ?? "csv").lowercased()) else {
            throw refused("The format is csv or json; '\(format ?? "")' is not.")
        }
        guard let mode = SyncDefinition.Mode(rawValue: (mode ?? "replace").lowercased()) else {
            throw refused("The mode is replace (the export is every contact) or upsert (create or update by externalId); '\(mode ?? "")' is not.")
        }
        var mapping: [String: String] = [:]
        for text in mappings {
            guard let equals = text.firstIndex(of: "=") else {
                throw refused("A mapping is FIELD=SOURCE (phone1=\"Mobile Phone\", lastName=$.properties.lastname); '\(text)' has no '='.")
            }
            let field = text[..<equals].trimmingCharacters(in: .whitespaces)
            guard mapping[field] == nil else { throw refused("The field '\(field)' is mapped twice.") }
            mapping[field] = String(text[text.index(after: equals)...])
        }
        let definition = SyncDefinition(
            url: url, format: format, mode: mode, everySeconds: try every.map(seconds(of:)), headers: try headers.map(header(of:)),
            mapping: mapping, itemsPath: items, nextPath: next, region: region, maxDeletePercent: maxDeletePercent ?? 50)
        return try checked(definition, validator: validator)
    }

    /// `90s`, `15m`, `1h`, `1h30m`, `1d` → seconds.
    public static func seconds(of text: String) throws -> Int {
        var total = 0
        var number = ""
        var sawUnit = false
        for character in text.lowercased() where !character.isWhitespace {
            if character.isASCII, character.isNumber {
                number.append(character)
                continue
            }
            let unit: Int? = switch character {
            case "s": 1
            case "m": 60
            case "h": 3_600
            case "d": 86_400
            default: nil
            }
            guard let unit, let value = Int(number), value <= 1_000_000 else {
                throw refused("A duration is a number and a unit, s, m, h or d (15m, 1h30m); '\(text)' is not.")
            }
            total += value * unit
            number = ""
            sawUnit = true
        }
        guard sawUnit, number.isEmpty else {
            throw refused("A duration is a number and a unit, s, m, h or d (15m, 1h30m); '\(text)' is not.")
        }
        return total
    }

    /// `Name: value` → a header.
    public static func header(of text: String) throws -> SyncDefinition.Header {
        guard let colon = text.firstIndex(of: ":") else {
            throw refused("A header is 'Name: value' (Authorization: Bearer …); the one given has no ':'.")
        }
        return SyncDefinition.Header(
            name: text[..<colon].trimmingCharacters(in: .whitespaces),
            value: text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }

    /// `definition` with its field names in our spelling and its region in capitals, or the first
    /// reason it is refused.
    public static func checked(_ definition: SyncDefinition, validator: PhoneNumberValidator) throws -> SyncDefinition {
        var checked = definition
        guard definition.url.count <= 2_000 else { throw refused("The source's URL is longer than 2,000 characters.") }
        guard let url = URL(string: definition.url), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else {
            throw refused("The source's URL must be http:// or https:// with a host; '\(Redaction.redacted(definition.url).prefix(200))' is not.")
        }
        if let every = definition.everySeconds, !(minimumIntervalSeconds...maximumIntervalSeconds).contains(every) {
            throw refused("A source runs at most once a minute and at least once a week; every \(every) s is outside that.")
        }
        guard definition.headers.count <= maximumHeaders else { throw refused("A source sends at most \(maximumHeaders) headers.") }
        let tokenCharacters = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for header in definition.headers {
            guard !header.name.isEmpty, header.name.unicodeScalars.allSatisfy(tokenCharacters.contains) else {
                throw refused("'\(header.name.prefix(60))' is not a header name (letters, digits and -).")
            }
            guard header.value.utf8.count <= 8_192, !header.value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw refused("The value of header \(header.name) has a line break or is longer than 8 KiB.")
            }
            let lowered = header.name.lowercased()
            guard !["host", "content-length", "transfer-encoding", "connection", "if-none-match", "if-modified-since"].contains(lowered) else {
                throw refused("The header \(header.name) is set by caller-lookup itself.")
            }
        }
        var columns: [ContactField: String] = [:]
        for (name, source) in definition.mapping {
            guard let field = ContactField(caseInsensitiveName: name.trimmingCharacters(in: .whitespaces)) else {
                throw refused(
                    "The mapping names an unknown field '\(name.prefix(60))'; the fields are \(ContactField.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            guard columns[field] == nil else { throw refused("The field \(field.rawValue) is mapped twice.") }
            // Blank as JSON Schema's \S reads it: any Unicode space, line break or form feed, or a BOM.
            guard source.contains(where: { !$0.isWhitespace && $0 != "\u{FEFF}" }) else {
                throw refused("The mapping of \(field.rawValue) names no \(definition.format == .csv ? "column" : "path").")
            }
            if definition.format == .json {
                do { _ = try JSONPath(source) } catch { throw refused("The mapping of \(field.rawValue): \(error.description)") }
            }
            columns[field] = source
        }
        if let problem = ImportMapping(columns: columns).problem { throw refused(problem) }
        if definition.mode == .upsert, columns[.externalId] == nil {
            throw refused("An upsert source needs a mapping for externalId: it is how a run finds the contact to update.")
        }
        checked.mapping = Dictionary(uniqueKeysWithValues: columns.map { ($0.key.rawValue, $0.value) })
        for (name, path) in [("--items", definition.itemsPath), ("--next", definition.nextPath)] {
            guard let path else { continue }
            guard definition.format == .json else { throw refused("\(name) is a JSON path; a CSV source has none.") }
            do { _ = try JSONPath(path) } catch { throw refused("\(name): \(error.description)") }
        }
        if let region = definition.region {
            let upper = region.uppercased()
            guard upper.count == 2, validator.countryCode(forRegion: upper) != nil else {
                throw refused("'\(region.prefix(20))' is not a region; give two letters, as CZ or DE.")
            }
            checked.region = upper
        }
        guard (0...100).contains(definition.maxDeletePercent) else {
            throw refused("The delete limit is a percentage from 0 to 100; \(definition.maxDeletePercent) is not.")
        }
        return checked
    }

    /// How a run reads the export: the mapping's columns (CSV) or, for JSON, our field names
    /// (the items are laid out as records by field), and the region.
    static func importMapping(_ definition: SyncDefinition) -> ImportMapping {
        var columns: [ContactField: String] = [:]
        for (name, source) in definition.mapping {
            guard let field = ContactField(caseInsensitiveName: name) else { continue }
            columns[field] = definition.format == .csv ? source : field.rawValue
        }
        return ImportMapping(columns: columns, region: definition.region)
    }
}

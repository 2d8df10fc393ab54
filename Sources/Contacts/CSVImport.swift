import Dispatch
public import PhoneNumbers

#if canImport(Glibc)
import Glibc
#endif

/// A row of an import file that passed every rule.
public struct ImportedRow: Hashable, Sendable {
    public let line: Int
    public let contact: Contact
}

/// A CSV file read and checked against the import contract (docs/contract.md), ready to replace an organization's contacts.
public struct ParsedImport: Sendable {
    public let columns: [ContactField]
    public let rows: [ImportedRow]
    public let rejected: RejectedRowList

    /// The listed rejected rows.
    public var rejectedRows: [RejectedRow] { rejected.listed }

    /// Reads and checks a whole import file. Throws when the file is refused whole: unreadable text,
    /// no header, an unknown or repeated column, no `phone1` or naming column, or no valid row.
    public static func parse(_ bytes: [UInt8], validator: PhoneNumberValidator) throws(ImportRejection) -> ParsedImport {
        var rows: [ImportedRow] = []
        let summary = try parse(bytes, validator: validator) { window in rows += window }
        return ParsedImport(columns: summary.columns, rows: rows, rejected: summary.rejected)
    }

    /// What a streamed parse found besides the rows it handed out.
    public struct Summary: Sendable {
        public let columns: [ContactField]
        public let rejected: RejectedRowList
        public let acceptedCount: Int
    }

    /// Reads and checks an import file window by window, handing each window's accepted rows to
    /// `accept` in file order as soon as they are checked, so a consumer (the store) can write them
    /// while the next window is read. Throws as `parse(_:validator:)` does — also after rows were
    /// handed out, so the consumer must be able to undo them — or rethrows what `accept` throws,
    /// wrapped in an `ImportRejection`.
    public static func parse(
        _ bytes: [UInt8], validator: PhoneNumberValidator, accept: ([ImportedRow]) throws -> Void
    ) throws(ImportRejection) -> Summary {
        var reader = CSVReader(bytes)
        return try parse(&reader, mapping: ImportMapping(), validator: validator, accept: accept)
    }

    /// `parse(_:validator:accept:)` over any records, the header first, read through `mapping`
    /// (another system's column names, the region of its numbers).
    public static func parse(
        _ reader: inout some ImportRecordReader, mapping: ImportMapping, validator: PhoneNumberValidator,
        accept: ([ImportedRow]) throws -> Void
    ) throws(ImportRejection) -> Summary {
        do {
            guard let header = try reader.next() else {
                throw ImportRejection("The file is empty. It needs a header row (e.g. lastName;phone1) and at least one contact.")
            }
            let layout = try mapping.columns.isEmpty
                ? RowLayout(columns: columns(of: header), sourceIndices: nil, sourceCount: header.values.count)
                : mapping.layout(of: header)
            let columns = layout.columns
            var accepted = 0
            var rejected = RejectedRowList()
            var externalIdLines: [String: Int] = [:]
            // Rows are read in windows; each window's rules are checked on every core, then its
            // outcomes are taken in file order, so the report is the same as a sequential run's.
            var window: [CSVRecord] = []
            window.reserveCapacity(Self.windowSize)
            var endOfFile = false
            while !endOfFile {
                window.removeAll(keepingCapacity: true)
                while window.count < Self.windowSize {
                    guard let record = try reader.next() else {
                        endOfFile = true
                        break
                    }
                    window.append(record)
                }
                var rows: [ImportedRow] = []
                rows.reserveCapacity(window.count)
                let outcomes = Self.check(window, layout: layout, region: mapping.region, validator: validator)
                for (record, outcome) in zip(window, outcomes) {
                    switch outcome {
                    case .rejected(let violations):
                        rejected.append(RejectedRow(line: record.line, violations: violations))
                    case .accepted(let contact):
                        let externalId = contact[.externalId]
                        if !externalId.isEmpty {
                            if let firstLine = externalIdLines[externalId] {
                                rejected.append(RejectedRow(line: record.line, violations: [
                                    ContactRuleViolation(field: .externalId, value: externalId,
                                                         rule: .duplicateExternalId(firstLine: firstLine))
                                ]))
                                continue
                            }
                            externalIdLines[externalId] = record.line
                        }
                        rows.append(ImportedRow(line: record.line, contact: contact))
                    }
                }
                accepted += rows.count
                if !rows.isEmpty { try accept(rows) }
            }
            guard accepted > 0 else {
                let detail = rejected.isEmpty
                    ? "The file has a header but no contact rows."
                    : "No row of the file is valid (\(rejected.count) rejected), so nothing was imported and the previous contacts stay. Fix the rows below and upload again:\n"
                        + rejected.reportText
                throw ImportRejection(detail, rejected: rejected)
            }
            return Summary(columns: columns, rejected: rejected, acceptedCount: accepted)
        } catch let error as CSVFileError {
            throw ImportRejection(error.message)
        } catch let error as ImportRejection {
            throw error
        } catch {
            throw ImportRejection("The file could not be imported: \(error)", underlying: error)
        }
    }

    /// Rows checked per window: large enough to keep both cores busy, small enough to bound memory.
    public static let windowSize = 16_384

    private enum RowOutcome: Sendable {
        case accepted(Contact)
        case rejected([ContactRuleViolation])
    }

    /// Checks every record of a window against the rules, in parallel when it is large.
    private static func check(
        _ records: [CSVRecord], layout: RowLayout, region: String?, validator: PhoneNumberValidator
    ) -> [RowOutcome] {
        @Sendable func outcome(_ record: CSVRecord) -> RowOutcome {
            if let oversized = record.oversized {
                return .rejected([ContactRuleViolation(field: nil, value: "", rule: .rowTooLarge(oversized))])
            }
            if let problem = record.problem {
                return .rejected([ContactRuleViolation(field: nil, value: "", rule: .malformedQuotes(problem))])
            }
            guard record.values.count == layout.sourceCount else {
                return .rejected([
                    ContactRuleViolation(
                        field: nil, value: "",
                        rule: .wrongValueCount(expected: layout.sourceCount, found: record.values.count))
                ])
            }
            let values = layout.sourceIndices.map { $0.map { record.values[$0] } } ?? record.values
            switch Contact.validate(fields: zip(layout.columns, values), validator: validator, region: region) {
            case .failure(let violations): return .rejected(violations.violations)
            case .success(let contact): return .accepted(contact)
            }
        }
        let workers = min(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), records.count / 1_024)
        guard workers > 1 else { return records.map(outcome) }
        return [RowOutcome](unsafeUninitializedCapacity: records.count) { buffer, initialized in
            let chunk = (records.count + workers - 1) / workers
            nonisolated(unsafe) let base = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let range = (worker * chunk)..<min(records.count, (worker + 1) * chunk)
                for index in range { (base + index).initialize(to: outcome(records[index])) }
            }
            initialized = records.count
        }
    }

    private static func columns(of header: CSVRecord) throws(ImportRejection) -> [ContactField] {
        var columns: [ContactField] = []
        var seen: [ContactField: Int] = [:]
        let allowed = ContactField.allCases.map(\.rawValue).joined(separator: ", ")
        if let problem = header.oversized ?? header.problem {
            throw ImportRejection("The header row (line \(header.line)) is broken: \(problem)")
        }
        for (offset, raw) in header.values.enumerated() {
            let name = raw.trimmingWhitespace()
            guard let field = ContactField(caseInsensitiveName: name) else {
                let shown = name.isEmpty ? "an empty column name" : "unknown column '\(name)'"
                throw ImportRejection(
                    "The header row (line \(header.line)) has \(shown) at position \(offset + 1). "
                        + "The first line must name the columns, separated by ';'; allowed names: \(allowed).")
            }
            if let first = seen[field] {
                throw ImportRejection(
                    "The header row (line \(header.line)) repeats column '\(field.rawValue)' at positions \(first + 1) and \(offset + 1). Each column may appear once.")
            }
            seen[field] = offset
            columns.append(field)
        }
        guard seen[.phone1] != nil else {
            throw ImportRejection("The header row (line \(header.line)) has no phone1 column; phone1 is required for every contact.")
        }
        guard ContactField.namingFields.contains(where: { seen[$0] != nil }) else {
            throw ImportRejection(
                "The header row (line \(header.line)) needs at least one of the columns firstName, lastName, organization.")
        }
        return columns
    }
}

/// Which value of a record goes to which field.
struct RowLayout: Sendable {
    let columns: [ContactField]
    /// The record's value for each of `columns`, when the record has others besides them.
    let sourceIndices: [Int]?
    /// How many values every record has (the header's count).
    let sourceCount: Int
}

/// How another system's export is read as an import: which of its columns holds each of our
/// fields (the rest are left out), and the region its numbers written without `+` are dialled in.
/// The empty mapping is the import contract itself: the header names our fields, numbers are
/// international.
public struct ImportMapping: Hashable, Sendable {
    /// Our field → the export's column, matched ignoring case and surrounding blanks.
    public var columns: [ContactField: String]
    /// Two letters (`CZ`): numbers without `+` are read as dialled there and stored in E.164.
    public var region: String?

    public init(columns: [ContactField: String] = [:], region: String? = nil) {
        (self.columns, self.region) = (columns, region)
    }

    /// Why a mapping cannot make contacts (a contact needs `phone1` and a name), or `nil`.
    public var problem: String? {
        guard columns[.phone1] != nil else { return "The mapping has no column for phone1; phone1 is required for every contact." }
        guard ContactField.namingFields.contains(where: { columns[$0] != nil }) else {
            return "The mapping needs a column for at least one of firstName, lastName, organization."
        }
        return nil
    }

    func layout(of header: CSVRecord) throws(ImportRejection) -> RowLayout {
        if let problem = header.oversized ?? header.problem {
            throw ImportRejection("The header row (line \(header.line)) is broken: \(problem)")
        }
        let names = header.values.map { $0.trimmingWhitespace().lowercased() }
        var columns: [ContactField] = []
        var indices: [Int] = []
        for field in ContactField.allCases {
            guard let wanted = self.columns[field] else { continue }
            guard let index = names.firstIndex(of: wanted.trimmingWhitespace().lowercased()) else {
                let known = header.values.map { "'\($0)'" }.joined(separator: ", ")
                throw ImportRejection(
                    "The header row (line \(header.line)) has no column '\(wanted)', which \(field.rawValue) is mapped to. Its columns are: \(known).")
            }
            columns.append(field)
            indices.append(index)
        }
        if let problem { throw ImportRejection(problem) }
        return RowLayout(columns: columns, sourceIndices: indices, sourceCount: header.values.count)
    }
}

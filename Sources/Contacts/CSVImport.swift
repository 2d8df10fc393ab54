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
        do {
            guard let header = try reader.next() else {
                throw ImportRejection("The file is empty. It needs a header row (e.g. lastName;phone1) and at least one contact.")
            }
            let columns = try columns(of: header)
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
                let outcomes = Self.check(window, columns: columns, validator: validator)
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
        _ records: [CSVRecord], columns: [ContactField], validator: PhoneNumberValidator
    ) -> [RowOutcome] {
        @Sendable func outcome(_ record: CSVRecord) -> RowOutcome {
            if let oversized = record.oversized {
                return .rejected([ContactRuleViolation(field: nil, value: "", rule: .rowTooLarge(oversized))])
            }
            if let problem = record.problem {
                return .rejected([ContactRuleViolation(field: nil, value: "", rule: .malformedQuotes(problem))])
            }
            guard record.values.count == columns.count else {
                return .rejected([
                    ContactRuleViolation(
                        field: nil, value: "",
                        rule: .wrongValueCount(expected: columns.count, found: record.values.count))
                ])
            }
            switch Contact.validate(fields: zip(columns, record.values), validator: validator) {
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

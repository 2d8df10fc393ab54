/// A row of an import file that was skipped, and why.
public struct RejectedRow: Hashable, Sendable {
    public let line: Int
    public let violations: [ContactRuleViolation]

    public init(line: Int, violations: [ContactRuleViolation]) {
        (self.line, self.violations) = (line, violations)
    }

    /// The contract's line: `Error on line number 3 occured. Column phone1: '+42022233' is not a valid phone number.`
    public var reportLine: String {
        "Error on line number \(line) occured. \(ContactRuleViolations(violations).message)"
    }
}

/// The rejected rows of an import as a report lists them: the first ones, up to `listLimit` errors
/// between them, and how many rows were rejected in all. A file of a million bad rows costs a
/// report of a thousand, not a gigabyte.
public struct RejectedRowList: Hashable, Sendable {
    /// The most errors a report lists (in `error` and in `errors`).
    public static let listLimit = 1_000
    public private(set) var listed: [RejectedRow] = []
    /// Every rejected row, listed or not.
    public private(set) var count = 0
    private var listedErrors = 0

    public init() {}

    public mutating func append(_ row: RejectedRow) {
        count += 1
        guard listedErrors < Self.listLimit else { return }
        let violations = Array(row.violations.prefix(Self.listLimit - listedErrors))
        listed.append(RejectedRow(line: row.line, violations: violations))
        listedErrors += violations.count
    }

    public var isEmpty: Bool { count == 0 }

    /// Rejected rows the report does not list.
    public var omitted: Int { count - listed.count }

    /// The contract's lines of the listed rows, joined by `\n`, and a last line saying how many
    /// more there were.
    public var reportText: String {
        let lines = listed.map(\.reportLine)
        return (omitted > 0 ? lines + ["… and \(omitted) more rejected rows, not listed."] : lines).joined(separator: "\n")
    }
}

/// Why a whole file was refused; nothing is changed when this is thrown.
public struct ImportRejection: Error, Hashable, Sendable {
    /// What is wrong and how to fix it.
    public let message: String
    /// Row errors, when the file was refused for having no valid row.
    public let rejected: RejectedRowList
    /// The error of whoever consumed the rows (the store), when that is what stopped the import.
    public let underlying: (any Error)?

    public init(_ message: String, rejected: RejectedRowList = RejectedRowList(), underlying: (any Error)? = nil) {
        self.message = message
        self.rejected = rejected
        self.underlying = underlying
    }

    /// The listed rejected rows.
    public var rejectedRows: [RejectedRow] { rejected.listed }

    public static func == (lhs: ImportRejection, rhs: ImportRejection) -> Bool {
        lhs.message == rhs.message && lhs.rejected == rhs.rejected
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(message)
        hasher.combine(rejected)
    }
}

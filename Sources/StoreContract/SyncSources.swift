import Foundation

/// What a CRM sync source fetches and how it imports it; checked (`SyncRules` in the service)
/// before it is stored, kept by the store as it is given.
public struct SyncDefinition: Hashable, Sendable, Codable {
    public enum Format: String, Hashable, Sendable, Codable, CaseIterable { case csv, json }
    public enum Mode: String, Hashable, Sendable, Codable, CaseIterable {
        /// The upload's replace-all: the export is the organization's whole contact list.
        case replace
        /// Create or update by `externalId`; nothing is deleted.
        case upsert
    }

    /// A request header sent with every fetch; its value is a secret (a token, an API key).
    public struct Header: Hashable, Sendable, Codable {
        public var name: String
        public var value: String
        public init(name: String, value: String) { (self.name, self.value) = (name, value) }
    }

    public var url: String
    public var format: Format
    public var mode: Mode
    /// Seconds between scheduled runs; `nil`: only when run by hand.
    public var everySeconds: Int?
    public var headers: [Header]
    /// Our field's name → the export's column (CSV) or path in each item (JSON).
    public var mapping: [String: String]
    /// JSON: where the items are in a page (`$.results`); `nil` or `$`: the page is the array.
    public var itemsPath: String?
    /// JSON: where a page names the next page's URL (`$.paging.next`).
    public var nextPath: String?
    /// Numbers without `+` are read as dialled in this region (two letters).
    public var region: String?
    /// A replace run that would delete more than this share of the contacts is refused.
    public var maxDeletePercent: Int

    public init(
        url: String, format: Format = .csv, mode: Mode = .replace, everySeconds: Int? = nil, headers: [Header] = [],
        mapping: [String: String] = [:], itemsPath: String? = nil, nextPath: String? = nil, region: String? = nil,
        maxDeletePercent: Int = 50
    ) {
        self.url = url
        self.format = format
        self.mode = mode
        self.everySeconds = everySeconds
        self.headers = headers
        self.mapping = mapping
        self.itemsPath = itemsPath
        self.nextPath = nextPath
        self.region = region
        self.maxDeletePercent = maxDeletePercent
    }

    /// The definition as shown after it was stored: header values redacted.
    public var redacted: SyncDefinition {
        var shown = self
        shown.url = Redaction.redacted(url)
        shown.headers = headers.map { Header(name: $0.name, value: Redaction.headerValue($0.value)) }
        return shown
    }
}

/// A stored sync source.
public struct SyncSource: Hashable, Sendable {
    public let id: Int64
    public let organizationID: Int64
    public let definition: SyncDefinition
    /// The last successful fetch's `ETag` and `Last-Modified`, sent back as conditions.
    public let etag: String?
    public let lastModified: String?
    /// Unix seconds.
    public let created: Int64

    public init(id: Int64, organizationID: Int64, definition: SyncDefinition, etag: String?, lastModified: String?, created: Int64) {
        self.id = id
        self.organizationID = organizationID
        self.definition = definition
        self.etag = etag
        self.lastModified = lastModified
        self.created = created
    }
}

/// One run of a sync source, as kept (the last `SyncRun.kept` per source).
public struct SyncRun: Hashable, Sendable, Codable {
    public enum Trigger: String, Hashable, Sendable, Codable { case schedule, hand }
    public enum Outcome: String, Hashable, Sendable, Codable {
        /// Imported (or found nothing to change).
        case success
        /// The server answered `304 Not Modified`: nothing was fetched or changed.
        case unchanged
        /// The export was read but refused (no valid row, the delete limit, a bad mapping): nothing changed.
        case refused
        /// The fetch failed (network, timeout, HTTP error, too large): nothing changed.
        case failed
    }

    /// How many runs a source keeps.
    public static let kept = 50

    public var id: Int64 = 0
    public var sourceID: Int64
    /// Unix seconds (fractional).
    public var started: Double
    public var finished: Double
    public var trigger: Trigger
    public var outcome: Outcome
    /// The last HTTP status the fetch saw, if it got one.
    public var httpStatus: Int?
    public var pages: Int = 0
    public var bytes: Int = 0
    public var imported: Int = 0
    public var created: Int = 0
    public var updated: Int = 0
    public var deleted: Int = 0
    public var unchanged: Int = 0
    public var rejected: Int = 0
    /// What went wrong, or `""`.
    public var message: String = ""
    /// The first rejected rows' report lines (`Error on line number N occured. …`); for a JSON
    /// export N is the item's position, from 1 across pages.
    public var errorLines: [String] = []
    /// The first rejected rows' errors, one per broken rule, as an upload's report lists them.
    public var errors: [RowError] = []

    public struct RowError: Hashable, Sendable, Codable {
        public var line: Int
        public var column: String?
        public var value: String
        public var rule: String
        public var message: String

        public init(line: Int, column: String?, value: String, rule: String, message: String) {
            (self.line, self.column, self.value, self.rule, self.message) = (line, column, value, rule, message)
        }
    }
    /// The organization's version after the run.
    public var version: Int64?

    public init(sourceID: Int64, started: Double, finished: Double, trigger: Trigger, outcome: Outcome) {
        self.sourceID = sourceID
        self.started = started
        self.finished = finished
        self.trigger = trigger
        self.outcome = outcome
    }

    /// The run changed nothing and could not: refused or failed.
    public var isFailure: Bool { outcome == .refused || outcome == .failed }
}

/// The conditions a successful fetch leaves for the next one.
public struct SyncValidators: Hashable, Sendable {
    public var etag: String?
    public var lastModified: String?
    public init(etag: String?, lastModified: String?) { (self.etag, self.lastModified) = (etag, lastModified) }
}

/// Storage of the rows of sync sources and runs, the same text in both engines.
public enum SyncStorage {
    public static func encode(_ definition: SyncDefinition) -> String { encode(value: definition) }
    public static func encode(_ run: SyncRun) -> String { encode(value: run) }

    public static func definition(_ text: String) throws -> SyncDefinition { try decode(text) }
    public static func run(_ text: String, id: Int64) throws -> SyncRun {
        var run: SyncRun = try decode(text)
        run.id = id
        return run
    }

    private static func encode(value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    private static func decode<T: Decodable>(_ text: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw ContactStoreError(.database, "A stored sync row could not be read: \(error)")
        }
    }
}

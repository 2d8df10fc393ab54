import AsyncHTTPClient
import Contacts
import Foundation
import NIOCore
import NIOHTTP1
import StoreContract
import ThreadSupport

/// How sync runs fetch: the limits a run keeps to, whoever's server it talks to.
public struct SyncSettings: Sendable {
    /// Establishing a connection.
    public var connectTimeout: Duration = .seconds(10)
    /// One page, from the request to its last byte.
    public var pageTimeout: Duration = .seconds(60)
    /// The most one page may be: an upload's limit.
    public var pageLimit = 20 * 1024 * 1024
    /// The most pages one run follows.
    public var maxPages = 2_000
    /// The most bytes all the pages of one run may have together: ten pages at their limit.
    public var runLimit: Int { pageLimit * 10 }
    /// The most redirects one page follows.
    public var maxRedirects = 5
    /// Further attempts after a 5xx answer or a connection error (none after a 4xx).
    public var retries = 3
    /// The wait before the first retry; it doubles with each.
    public var retryDelay: Duration = .seconds(1)
    /// How long a claimed run holds its source; a node that dies mid-run frees it after this.
    public var leaseSeconds = 900.0
    /// How often a serving node looks for sources that are due.
    public var tick: Duration = .seconds(5)
    /// `User-Agent` of every request.
    public var userAgent = "caller-lookup/\(CallerLookupVersion.current) (contact sync)"

    public init() {}
}

/// The product's version, for `--version` and the `User-Agent` of its requests.
public enum CallerLookupVersion {
    public static let current = "0.9.0"
}

/// What a fetch brought.
enum FetchedExport: Sendable {
    /// `304 Not Modified` on the first page: nothing to import.
    case notModified
    /// The export, ready to import, and what the next fetch may send as conditions.
    case export(ImportSource, pages: Int, bytes: Int, validators: SyncValidators)
}

/// A fetch that failed; nothing was imported. `status` is the last HTTP status seen.
struct SyncFetchFailure: Error, Sendable {
    let message: String
    let status: Int?
}

/// Fetches a source's export page by page, as a good citizen: its own `User-Agent`, conditional
/// requests, bounded time and size, retries with backoff on 5xx and connection errors only, and
/// redirects followed by hand (at most `maxRedirects`), the source's own headers dropped when one
/// leads to another host.
struct SyncFetcher: Sendable {
    let client: HTTPClient
    let settings: SyncSettings

    /// Fetches the export of `source` and lays it out for the import.
    func fetch(_ source: SyncSource) async throws -> FetchedExport {
        let definition = source.definition
        var conditions: [(String, String)] = []
        if let etag = source.etag { conditions.append(("If-None-Match", etag)) }
        if let lastModified = source.lastModified { conditions.append(("If-Modified-Since", lastModified)) }
        let first = try await page(definition.url, source: definition, conditions: conditions)
        if first.status == 304 { return .notModified }
        let validators = SyncValidators(etag: first.headers.first(name: "ETag"), lastModified: first.headers.first(name: "Last-Modified"))
        let mapping = SyncRules.importMapping(definition)
        switch definition.format {
        case .csv:
            let bytes = first.body
            let separator = CSVReader.detectSeparator(bytes)
            return .export(ImportSource(mapping: mapping) { CSVReader(bytes, separator: separator) },
                           pages: 1, bytes: bytes.count, validators: validators)
        case .json:
            let layout = try JSONItems(definition: definition)
            var records = [layout.header]
            var current = first
            var seen: Set<String> = [first.url]
            var pages = 1
            var bytes = first.body.count
            while true {
                // Parsed on a dispatch thread: a 20 MB page is no work for Swift's cooperative pool.
                let (fetched, firstLine) = (current, records.count)
                let (items, next) = try await offCooperativePool { try layout.read(fetched, firstLine: firstLine) }
                records += items
                guard let next else { break }
                guard seen.insert(next).inserted else {
                    throw SyncFetchFailure(message: "Page \(pages) names as the next page one already fetched (\(Redaction.redacted(next).prefix(200))).", status: current.status)
                }
                guard pages < settings.maxPages else {
                    throw SyncFetchFailure(message: "The export has more than \(settings.maxPages) pages, the most one run follows.", status: current.status)
                }
                try Task.checkCancellation()
                current = try await page(next, source: definition, conditions: [])
                pages += 1
                bytes += current.body.count
                guard bytes <= settings.runLimit else {
                    throw SyncFetchFailure(
                        message: "The export's pages add up to more than \(settings.runLimit / 1_048_576) MB, the most one run fetches (ten times upload.limit).",
                        status: current.status)
                }
            }
            let laidOut = records
            return .export(ImportSource(mapping: mapping) { RecordList(laidOut) }, pages: pages, bytes: bytes, validators: validators)
        }
    }

    struct Page: Sendable {
        let url: String
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
    }

    /// One page: redirects followed, retried on 5xx and connection errors.
    private func page(_ url: String, source: SyncDefinition, conditions: [(String, String)]) async throws -> Page {
        var attempt = 0
        while true {
            do {
                let page = try await following(url, source: source, conditions: conditions)
                if page.status >= 500, attempt < settings.retries {
                    attempt += 1
                    try await Task.sleep(for: settings.retryDelay * (1 << (attempt - 1)))
                    continue
                }
                guard page.status == 200 || page.status == 304 else {
                    let hint = page.status == 401 || page.status == 403 ? " Check the source's credentials (--header)." : ""
                    let text = String(decoding: page.body.prefix(200), as: UTF8.self)
                    throw SyncFetchFailure(
                        message: "\(Redaction.redacted(page.url).prefix(200)) answered \(page.status)\(attempt > 0 ? " after \(attempt + 1) attempts" : "").\(hint)"
                            + (text.isEmpty ? "" : " It said: \(text)"),
                        status: page.status)
                }
                return page
            } catch let failure as SyncFetchFailure {
                throw failure
            } catch is CancellationError {
                throw CancellationError()
            } catch let timeout as PageTimeout {
                throw SyncFetchFailure(message: timeout.message, status: nil)
            } catch let error as HTTPClientError where error == .readTimeout || error == .deadlineExceeded {
                // A server that answers too slowly is not asked again at once.
                throw SyncFetchFailure(
                    message: "\(Redaction.redacted(url).prefix(200)) did not answer in full within \(settings.pageTimeout.components.seconds) s.", status: nil)
            } catch {
                guard attempt < settings.retries else {
                    throw SyncFetchFailure(
                        message: "\(Redaction.redacted(url).prefix(200)) could not be reached after \(attempt + 1) attempts: \(error)", status: nil)
                }
                attempt += 1
                try await Task.sleep(for: settings.retryDelay * (1 << (attempt - 1)))
            }
        }
    }

    private func following(_ start: String, source: SyncDefinition, conditions: [(String, String)]) async throws -> Page {
        var url = start
        let origin = URL(string: start)?.host?.lowercased()
        for _ in 0...settings.maxRedirects {
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            request.headers.add(name: "User-Agent", value: settings.userAgent)
            request.headers.add(name: "Accept", value: source.format == .csv ? "text/csv, text/plain;q=0.5, */*;q=0.1" : "application/json")
            // The source's credentials go to the host it names, never to another one a redirect leads to.
            if URL(string: url)?.host?.lowercased() == origin {
                for header in source.headers { request.headers.add(name: header.name, value: header.value) }
            }
            for (name, value) in conditions { request.headers.add(name: name, value: value) }
            let (sent, target) = (request, url)
            let page = try await withPageDeadline(url) { try await self.send(sent, url: target) }
            guard (300..<400).contains(page.status), page.status != 304 else { return page }
            guard let location = page.headers.first(name: "Location"),
                  let next = URL(string: location, relativeTo: URL(string: url))?.absoluteString
            else {
                throw SyncFetchFailure(message: "\(Redaction.redacted(url).prefix(200)) answered \(page.status) without a Location.", status: page.status)
            }
            url = next
        }
        throw SyncFetchFailure(message: "\(Redaction.redacted(start).prefix(200)) redirected more than \(settings.maxRedirects) times.", status: nil)
    }

    private func send(_ request: HTTPClientRequest, url: String) async throws -> Page {
        let limit = settings.pageLimit
        let response = try await client.execute(request, timeout: .seconds(Int64(settings.pageTimeout.components.seconds)))
        let tooLarge = SyncFetchFailure(
            message: "A page of the export is larger than \(limit / 1_048_576) MB, the most a page may be; page the export (--next) or export less.",
            status: Int(response.status.code))
        if let declared = response.headers.first(name: "Content-Length").flatMap(Int.init), declared > limit { throw tooLarge }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
        return Page(url: url, status: Int(response.status.code), headers: response.headers, body: Array(buffer: body))
    }

    struct PageTimeout: Error {
        let message: String
    }

    /// `work`, or `PageTimeout` after `pageTimeout`.
    private func withPageDeadline(_ url: String, _ work: @escaping @Sendable () async throws -> Page) async throws -> Page {
        let limit = settings.pageTimeout
        return try await withThrowingTaskGroup(of: Page?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let page = first else {
                throw PageTimeout(message: "\(Redaction.redacted(url).prefix(200)) did not answer in full within \(limit.components.seconds) s.")
            }
            return page
        }
    }
}

/// The items of a JSON export laid out as records: the header names the mapped fields, each
/// item is a record whose line is its position in the export (from 1, across pages).
struct JSONItems: Sendable {
    private let fields: [(ContactField, JSONPath)]
    private let items: JSONPath?
    private let next: JSONPath?

    init(definition: SyncDefinition) throws {
        var fields: [(ContactField, JSONPath)] = []
        for field in ContactField.allCases {
            guard let source = definition.mapping[field.rawValue] else { continue }
            fields.append((field, try JSONPath(source)))
        }
        self.fields = fields
        items = try definition.itemsPath.map { try JSONPath($0) }
        next = try definition.nextPath.map { try JSONPath($0) }
    }

    /// The header record: the mapped fields' names.
    var header: CSVRecord { CSVRecord(line: 0, values: fields.map(\.0.rawValue), problem: nil) }

    /// A page's items as records, the first on `firstLine`, and the next page's URL (from the
    /// body's next path, else a `Link: <…>; rel="next"` header), or `nil`.
    func read(_ page: SyncFetcher.Page, firstLine: Int) throws -> ([CSVRecord], String?) {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(page.body), options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
            throw SyncFetchFailure(message: "Page \(Redaction.redacted(page.url).prefix(200)) is not JSON: \(detail)", status: page.status)
        }
        let list: Any? = if let items { items.value(in: root) } else { root }
        guard let array = list as? [Any] else {
            let found = list.map { $0 is [String: Any] ? "an object" : "a single value" } ?? "nothing"
            throw SyncFetchFailure(
                message: "The items of page \(Redaction.redacted(page.url).prefix(200)) are not an array: \(items?.description ?? "$") is \(found). Say where the array is with --items ($.results, $.data.contacts).",
                status: page.status)
        }
        var records: [CSVRecord] = []
        records.reserveCapacity(array.count)
        for item in array {
            records.append(CSVRecord(line: firstLine + records.count, values: fields.map { $0.1.text(in: item) }, problem: nil))
        }
        let named = next.map { $0.text(in: root) } ?? ""
        let target = named.isEmpty ? Self.linkNext(page.headers) : named
        guard let target, !target.isEmpty else { return (records, nil) }
        return (records, URL(string: target, relativeTo: URL(string: page.url))?.absoluteString)
    }

    /// The `rel="next"` target of the `Link` headers.
    static func linkNext(_ headers: HTTPHeaders) -> String? {
        for value in headers["Link"] {
            for link in value.split(separator: ",") {
                let parts = link.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let target = parts.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
                let isNext = parts.dropFirst().contains { parameter in
                    let lowered = parameter.lowercased().replacingOccurrences(of: " ", with: "")
                    return lowered == "rel=\"next\"" || lowered == "rel=next"
                }
                if isNext { return String(target.dropFirst().dropLast()) }
            }
        }
        return nil
    }
}

/// Records already laid out, read in order.
struct RecordList: ImportRecordReader {
    private let records: [CSVRecord]
    private var index = 0

    init(_ records: [CSVRecord]) { self.records = records }

    mutating func next() throws(CSVFileError) -> CSVRecord? {
        guard index < records.count else { return nil }
        defer { index += 1 }
        return records[index]
    }
}

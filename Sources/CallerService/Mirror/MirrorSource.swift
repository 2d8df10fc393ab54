import AsyncHTTPClient
import Contacts
import Foundation
import NIOCore
import NIOHTTP1
import StoreContract
import Synchronization

/// Why a mirror's request to the API failed.
public struct MirrorError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) { self.description = description }
}

/// The contacts API as a mirror sees it: its change feed as a `ChangeSource` (so the mirror's
/// index is fed by the same `IndexFollower` as an API node's), its snapshot route for full loads,
/// and `whoami` to verify credentials.
///
/// `loadAll` and `changes` block: they run on the mirror's follower thread, never on an event
/// loop or the cooperative pool. `changes` long-polls the API for up to `wait`.
final class MirrorSource: ChangeSource, Sendable {
    let client: HTTPClient
    let base: String
    private let authorization: String
    private let wait: Int
    private let state = Mutex(State())

    private struct State {
        var apiVersion: Int64 = 0
        var lastSuccess: Date?
        /// Shown by the mirror's `/health`: redacted (an API URL may carry a password).
        var lastError: String? {
            get { error }
            set { error = newValue.map(Redaction.redacted) }
        }
        private var error: String?
        /// Whether the last request failed without an HTTP answer (refused, timed out): the API is
        /// away. An HTTP error (a 429 or 401 on the mirror's own login) is not that.
        var unreachable = false
        /// The API's credentials version, as its last change feed answer said (`nil` before one,
        /// or from an API that does not say).
        var credentialsVersion: Int64?
        /// Whether the change feed was asked before.
        var polled = false
    }

    init(client: HTTPClient, base: String, authorization: String, wait: Int) {
        self.client = client
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.authorization = authorization
        self.wait = wait
    }

    /// What the mirror knows about the API: its latest version, when it last answered, and the
    /// last failure (`nil` once it answers again).
    var status: (apiVersion: Int64, lastSuccess: Date?, lastError: String?) {
        state.withLock { ($0.apiVersion, $0.lastSuccess, $0.lastError) }
    }

    // MARK: ChangeSource

    func loadAll() throws -> FullLoad {
        let body = try get("/v3/contacts/snapshot", timeout: .seconds(600))
        let snapshot = try decoding("snapshot") { () throws(JSONScanner.Failure) in try ChangeFeedJSON.snapshot(body) }
        noteVersion(snapshot.version)
        return snapshot
    }

    func changes(after version: Int64, limit: Int) throws -> ChangeBatch {
        // The first request does not wait: the mirror learns the credentials version at once (an
        // API that never says it is long-polled from the second request on, as before).
        let wait = state.withLock { state in
            defer { state.polled = true }
            return state.polled ? self.wait : 0
        }
        let body = try get("/v3/contacts/changes?since=\(version)&limit=\(limit)&wait=\(wait)", timeout: .seconds(Int64(wait) + 15))
        var credentials: Int64?
        let batch = try decoding("change feed") { () throws(JSONScanner.Failure) in try ChangeFeedJSON.changes(body, credentialsVersion: &credentials) }
        noteVersion(batch.version)
        if let credentials { state.withLock { $0.credentialsVersion = credentials } }
        return batch
    }

    private func decoding<T>(_ what: String, _ body: () throws(JSONScanner.Failure) -> T) throws -> T {
        do {
            return try body()
        } catch {
            state.withLock { $0.lastError = "the API's \(what): \(error)" }
            throw MirrorError("The API's \(what) is not what a mirror reads: \(error)")
        }
    }

    // MARK: Credentials

    /// The organization of the mirror's own login (blocking; the follower thread asks it first).
    func organization() throws -> Organization {
        let body = try get("/v3/whoami", timeout: .seconds(30))
        guard let organization = Self.organization(fromWhoami: body) else {
            throw MirrorError("The API's whoami answer has no organization.")
        }
        return organization
    }

    /// Asks the API whether a caller's login and password are valid.
    ///
    /// While the follower knows the API to be unreachable (no HTTP answer) the answer is
    /// `.unavailable` at once, so unknown callers do not each wait for a connection timeout. An API
    /// that answers but refuses the mirror's own login (429, 401) is still asked: a caller's
    /// credentials are the API's to judge, so blinding the mirror's feed does not move callers to
    /// the mirror's stored hashes.
    func verify(_ credentials: Credentials) async -> CredentialCheck {
        if state.withLock({ $0.unreachable }) { return .unavailable }
        var request = HTTPClientRequest(url: base + "/v3/whoami")
        request.headers.add(name: "Authorization", value: credentials.authorization)
        do {
            let response = try await client.execute(request, timeout: .seconds(3))
            let body = try await response.body.collect(upTo: 1 << 16)
            switch response.status.code {
            case 200:
                guard let organization = Self.organization(fromWhoami: Array(buffer: body)) else { return .unavailable }
                return .valid(organization, Self.scope(fromWhoami: Array(buffer: body)), nil)
            case 401, 403:
                return .invalid
            default:
                return .unavailable
            }
        } catch {
            return .unavailable
        }
    }

    // MARK: Plumbing

    /// The body of `GET path` with the mirror's credentials; throws unless the answer is 200.
    private func get(_ path: String, timeout: TimeAmount) throws -> [UInt8] {
        do {
            var request = try HTTPClient.Request(url: base + path, method: .GET)
            request.headers.add(name: "Authorization", value: authorization)
            let response: HTTPClient.Response
            do {
                response = try client.execute(request: request, deadline: .now() + timeout).wait()
            } catch {
                state.withLock { $0.unreachable = true }
                throw error
            }
            state.withLock { $0.unreachable = false }
            switch response.status.code {
            case 200:
                break
            case 401, 403, 429:
                throw MirrorError(
                    "the API refused the mirror's login (GET \(path) answered \(response.status.code)): check --login and "
                        + "CALLER_LOOKUP_PASSWORD, or someone is failing that login")
            default:
                throw MirrorError("GET \(path) answered \(response.status.code)")
            }
            let body = response.body.map { Array(buffer: $0) } ?? []
            state.withLock { state in
                state.lastSuccess = Date()
                state.lastError = nil
            }
            return body
        } catch {
            state.withLock { $0.lastError = "\(error)" }
            throw error
        }
    }

    private func noteVersion(_ version: Int64) {
        state.withLock { $0.apiVersion = max($0.apiVersion, version) }
    }

    /// The API's credentials version as its change feed last said: when it moves, a token was
    /// revoked, a password or the organization's settings changed.
    var credentialsVersion: Int64? { state.withLock { $0.credentialsVersion } }

    /// The scope of a `whoami` answer (`"scope"`; `admin` for a user, and for an API that does not
    /// say).
    static func scope(fromWhoami bytes: [UInt8]) -> AccessScope {
        var scanner = JSONScanner(bytes)
        var scope = AccessScope.admin
        try? scanner.object { scanner, key throws(JSONScanner.Failure) in
            guard key == "scope" else { return try scanner.skipValue() }
            scope = AccessScope(rawValue: try scanner.string()) ?? .lookup
        }
        return scope
    }

    /// The organization of a `whoami` answer,
    /// `{"organization":{"id","name","defaultRegion","suffixDigits","version","labels"}}`, or `nil`
    /// when the answer is not that.
    static func organization(fromWhoami bytes: [UInt8]) -> Organization? {
        var scanner = JSONScanner(bytes)
        var id: Int64?
        var name: String?
        var region: String?
        var suffixDigits: Int64?
        var version: Int64 = 0
        var labels: [ContactField: String] = [:]
        do throws(JSONScanner.Failure) {
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                guard key == "organization" else { return try scanner.skipValue() }
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    switch key {
                    case "id": id = try scanner.int64()
                    case "name": name = try scanner.string()
                    case "defaultRegion": region = try scanner.string()
                    case "suffixDigits": suffixDigits = try scanner.int64()
                    case "version": version = try scanner.int64()
                    case "labels": labels = try ChangeFeedJSON.labels(&scanner)
                    default: try scanner.skipValue()
                    }
                }
            }
            try ChangeFeedJSON.trailing(&scanner)
        } catch {
            return nil
        }
        guard let id, let name, let region, let suffixDigits, let digits = Int(exactly: suffixDigits) else { return nil }
        return Organization(id: id, name: name, defaultRegion: region, suffixDigits: digits, version: version, labels: labels)
    }
}

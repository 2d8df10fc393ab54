import NIOFoundationCompat
import SQLiteEngine
import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PhoneNumbers
import StoreContract
import TestSupport
import Testing
import ThreadSupport

#if canImport(Glibc)
import Glibc
#endif

@testable import CallerService

/// Hostile input over HTTP (issue 8, part 4): each gets a clear 4xx and nothing stored changes.
@Suite struct HostileInputTests {
    static let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak")]

    func multipart(_ body: String, boundary: String? = "XyZ") -> (HTTPFields, ByteBuffer) {
        var headers = Self.novak
        headers[.contentType] = boundary.map { "multipart/form-data; boundary=\($0)" } ?? "multipart/form-data"
        return (headers, ByteBuffer(string: body))
    }

    @Test func hostileRequestsGetA4xxAndChangeNothing() async throws {
        let fixture = try ServiceFixture()
        let store = fixture.store
        let ipex = try #require(try store.organization(named: "IPEX"))
        _ = try store.importContacts(csv: Fixtures.maximalCSV, organizationID: ipex.id, validator: PhoneNumberValidator())
        let before = try store.allContacts(organizationID: ipex.id)
        let file = "lastName;phone1\r\nNový;+420601000001\r\n"
        let app = buildApplication(configuration: ServiceConfiguration(), store: store)
        try await app.test(.router) { client in
            func expect4xx(_ what: String, _ uri: String, _ method: HTTPRequest.Method, _ headers: HTTPFields, _ body: ByteBuffer? = nil) async throws {
                let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
                #expect((400..<500).contains(response.status.code), "\(what): \(response.status) \(String(buffer: response.body).prefix(200))")
                #expect(!String(buffer: response.body).isEmpty, "\(what): the answer says what was wrong")
            }
            // Malformed multipart.
            let noBoundary = multipart("--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\(file)\r\n--XyZ--\r\n", boundary: nil)
            try await expect4xx("no boundary", "/v3/contacts/upload", .post, noBoundary.0, noBoundary.1)
            let truncated = multipart("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n\(file)")
            try await expect4xx("truncated part", "/v3/contacts/upload", .post, truncated.0, truncated.1)
            let twoFiles = multipart(
                "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n\(file)\r\n"
                    + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.csv\"\r\n\r\n\(file)\r\n--XyZ--\r\n")
            try await expect4xx("two file parts", "/v3/contacts/upload", .post, twoFiles.0, twoFiles.1)
            let noFile = multipart("--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--XyZ--\r\n")
            try await expect4xx("no file part", "/v3/contacts/upload", .post, noFile.0, noFile.1)
            // A file that is not UTF-8: the answer names the line.
            let latin2 = Array("lastName;phone1\r\nNov".utf8) + [0xE1] + Array("k;+420601000001\r\n".utf8)
            let latin = multipart("")
            var body = Array("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n".utf8)
            body += latin2 + Array("\r\n--XyZ--\r\n".utf8)
            let notUTF8 = try await client.execute(uri: "/v3/contacts/upload", method: .post, headers: latin.0, body: ByteBuffer(bytes: body))
            #expect(notUTF8.status == .badRequest)
            #expect(String(buffer: notUTF8.body).contains("Line 2"))
            // Not multipart at all.
            try await expect4xx("plain body", "/v3/contacts/upload", .post, Self.novak, ByteBuffer(string: file))
            // URLs: traversal, overlong numbers, junk.
            try await expect4xx("path traversal", "/v3/contacts/lookup/..%2F..%2Fetc%2Fpasswd", .get, Self.novak)
            try await expect4xx("overlong number", "/v3/contacts/lookup/" + String(repeating: "7", count: 1_000), .get, Self.novak)
            try await expect4xx("overlong validator input", "/v3/contacts/validator/phone-number/" + String(repeating: "1", count: 500), .get, Self.novak)
            try await expect4xx("non-numeric id", "/v3/contacts/..%2F1", .get, Self.novak)
            // JSON: nesting bombs, wrong types, oversize, javascript: links.
            var json = Self.novak
            json[.contentType] = "application/json"
            try await expect4xx("nesting bomb", "/v3/contacts", .post, json, ByteBuffer(string: String(repeating: "[", count: 100_000)))
            try await expect4xx("object bomb", "/v3/contacts", .post, json,
                                ByteBuffer(string: String(repeating: #"{"a":"#, count: 50_000)))
            try await expect4xx("array instead of object", "/v3/contacts", .post, json, ByteBuffer(string: "[]"))
            // (Numbers are taken as their text on purpose — CRMs send externalId 36936 — but not booleans or objects.)
            try await expect4xx("boolean instead of text", "/v3/contacts", .post, json, ByteBuffer(string: #"{"lastName":true,"phone1":"+420601000001"}"#))
            try await expect4xx("object instead of text", "/v3/contacts", .post, json, ByteBuffer(string: #"{"lastName":{"$gt":""},"phone1":"+420601000001"}"#))
            try await expect4xx("over 1 MiB", "/v3/contacts", .post, json,
                                ByteBuffer(string: #"{"lastName":""# + String(repeating: "x", count: 1_100_000) + #"","phone1":"+420601000001"}"#))
            try await expect4xx("javascript: link", "/v3/contacts", .post, json,
                                ByteBuffer(string: #"{"lastName":"X","phone1":"+420601000001","nameUri":"javascript:alert(1)"}"#))
            try await expect4xx("data: link", "/v3/contacts", .post, json,
                                ByteBuffer(string: #"{"lastName":"X","phone1":"+420601000001","customField1Uri":"data:text/html,<b>x</b>"}"#))
            try await expect4xx("batch bomb", "/v3/contacts/batch", .post, json,
                                ByteBuffer(string: #"{"operations":"# + String(repeating: "[", count: 100_000)))
            try await expect4xx("labels of unknown fields", "/v3/labels", .put, json, ByteBuffer(string: #"{"password":"x"}"#))
        }
        let after = try store.allContacts(organizationID: ipex.id)
        #expect(after.contacts == before.contacts)
        #expect(after.version == before.version)
    }

    /// A spreadsheet formula in a value is data: stored and answered as the same text, never
    /// evaluated or altered (the page and the JSON escape it like any other text).
    @Test func csvInjectionValuesAreStoredAsText() async throws {
        let fixture = try ServiceFixture()
        let ipex = try #require(try fixture.store.organization(named: "IPEX"))
        let formula = "=cmd|' /C calc'!A0"
        let csv = "lastName;phone1;customField1\n\"\(formula)\";+420601000009;\"@SUM(1+1)*cmd|' /C calc'!A0\"\n"
        let report = try fixture.store.importContacts(csv: Array(csv.utf8), organizationID: ipex.id, validator: PhoneNumberValidator())
        #expect(report.created == 1)
        let stored = try fixture.store.allContacts(organizationID: ipex.id).contacts
        #expect(stored.map { $0.contact[.lastName] } == [formula])
        #expect(stored.map { $0.contact[.customField1] } == ["@SUM(1+1)*cmd|' /C calc'!A0"])
        let app = buildApplication(configuration: ServiceConfiguration(), store: fixture.store)
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/v3/contacts/lookup/+420601000009", method: .get, headers: Self.novak)
            let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            let contacts = object?["contacts"] as? [[String: Any]]
            #expect(contacts?.first?["lastName"] as? String == formula)
        }
    }

    /// A client that connects and sends nothing is disconnected after the idle timeout.
    @Test func aStalledConnectionIsClosed() async throws {
        let fixture = try ServiceFixture()
        let api = LiveAPI(store: fixture.store)
        try await api.start { $0.idleTimeoutSeconds = 1 }
        let port = api.port
        // Closed well before the default 65 s (a loaded machine may take a few seconds).
        let outcome = try await RawConnection.session(port: port) { connection in connection.read(waitingUpTo: 30) }
        if case .closed = outcome {} else { Issue.record("the server kept a silent connection open: \(outcome)") }
        await api.stop()
    }

    /// A request trickled a byte at a time restarts the idle timeout with every byte; the header
    /// deadline still answers 408 and closes it.
    @Test func aTrickledHeadGets408() async throws {
        let fixture = try ServiceFixture()
        let api = LiveAPI(store: fixture.store)
        try await api.start { $0.headerTimeoutSeconds = 1 }
        // The header line never ends: only the deadline can stop this. Each byte restarts the
        // idle timeout. A minute is the loaded machine's allowance, far above the 1 s deadline.
        let bytes = Array("GET /v3/whoami HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 600)
        let (outcome, closedAfter) = try await RawConnection.session(port: api.port) { connection in
            let outcome = connection.trickle(bytes)
            guard case .bytes = outcome else { return (outcome, true) }
            if case .closed = connection.read(waitingUpTo: 30) { return (outcome, true) }
            return (outcome, false)
        }
        switch outcome {
        case .bytes(let bytes):
            let answer = String(decoding: bytes, as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout"))
            #expect(answer.contains("must arrive within 1 s"))
            #expect(closedAfter, "closed after the 408")
        case .closed:
            // The 408 can be lost to a reset when a trickled byte arrives as the server closes.
            break
        case .timedOut:
            Issue.record("a trickled head held the connection for a minute")
        }
        await api.stop()
    }

    /// The deadlines share one timer per connection, moved only when a deadline comes earlier: a
    /// head trickled after a first request on the same connection (whose body deadline was far
    /// later) still gets its 408 at the header deadline.
    @Test func aTrickledHeadAfterAFirstRequestGets408() async throws {
        let fixture = try ServiceFixture()
        let api = LiveAPI(store: fixture.store)
        try await api.start {
            $0.headerTimeoutSeconds = 1
            $0.bodyTimeoutSeconds = 300
        }
        let trickled = Array("GET /v3/whoami HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 600)
        let (first, outcome) = try await RawConnection.session(port: api.port) { connection -> (RawConnection.Reading, RawConnection.Reading) in
            guard connection.send(Array("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8)) else { return (.closed, .closed) }
            let first = connection.read(waitingUpTo: 30)
            return (first, connection.trickle(trickled))
        }
        if case .bytes(let bytes) = first {
            #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK"))
        } else {
            Issue.record("the first request got no answer: \(first)")
        }
        switch outcome {
        case .bytes(let bytes): #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 408 Request Timeout"))
        case .closed: break  // the 408 lost to a reset as the server closed
        case .timedOut: Issue.record("a trickled second head held the connection for a minute")
        }
        await api.stop()
    }

    /// A header section over the decoder's 80 KiB, or a request line that long, is refused before
    /// any route runs, and the connection is closed.
    @Test func oversizedHeadsAreRefused() async throws {
        let fixture = try ServiceFixture()
        let api = LiveAPI(store: fixture.store)
        try await api.start()
        let heads = [
            "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 100_000) + "\r\n\r\n",
            "GET /health HTTP/1.1\r\nHost: x\r\n" + (0..<5_000).map { "X-H\($0): v\r\n" }.joined() + "\r\n",
            "GET /v3/contacts/lookup/" + String(repeating: "1", count: 100_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
        for head in heads {
            let outcome = try await RawConnection.session(port: api.port) { connection in
                _ = connection.send(Array(head.utf8))
                return connection.read(waitingUpTo: 30)
            }
            // The server answers 400 and closes while bytes it never read are still arriving, so
            // the kernel may reset the connection before the client reads the 400: either is a
            // refusal; what must never happen is an answer from a route, or no answer at all.
            switch outcome {
            case .bytes(let bytes):
                let answer = String(decoding: bytes, as: UTF8.self)
                #expect(answer.hasPrefix("HTTP/1.1 400"), "\(head.prefix(40))…")
                #expect(answer.contains("Connection: close"))
            case .closed: break
            case .timedOut: Issue.record("no answer to an oversized head: \(head.prefix(40))…")
            }
        }
        await api.stop()
    }

    /// A body that arrives slower than the minimum rate is cut off; nothing is stored.
    @Test func aTrickledBodyIsCutOffAndNothingChanges() async throws {
        let fixture = try ServiceFixture()
        let before = try fixture.store.allContacts(organizationID: try #require(try fixture.store.organization(named: "IPEX")).id)
        let api = LiveAPI(store: fixture.store)
        try await api.start {
            $0.bodyTimeoutSeconds = 1
            $0.minimumBodyRate = 1_000
        }
        // Padded so that, at the trickle's 10 bytes/s, the whole body would take minutes.
        let body = Array(#"{"operations":[{"op":"upsert","contact":{"lastName":"Pomalý","phone1":"+420222333999"}}]}"#.utf8)
            + Array(repeating: UInt8(ascii: " "), count: 2_000)
        let head = "POST /v3/contacts/batch HTTP/1.1\r\nHost: x\r\nAuthorization: \(ServiceFixture.basic("novak", "hesloNovak"))\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        // The deadline is about 1 s; the loop gives a loaded machine a minute before it gives up.
        let closed = try await RawConnection.session(port: api.port) { connection in
            guard connection.send(Array(head.utf8)) else { return false }
            let started = Date()
            for byte in body where -started.timeIntervalSinceNow < 60 {
                if !connection.send([byte]) { return true }
                if case .closed = connection.read(waitingUpTo: 0.1) { return true }
            }
            return false
        }
        #expect(closed, "the connection was closed before the body was complete")
        #expect(try fixture.store.allContacts(organizationID: try #require(try fixture.store.organization(named: "IPEX")).id) == before)
        await api.stop()
    }
}

/// A plain TCP connection for what an HTTP client library would not do: stall, trickle.
///
/// Its calls block, so a test runs them through `session`, on a dispatch thread: blocking Swift's
/// cooperative pool would starve the in-process server's handlers (its 400s and 408s are written
/// by tasks on that pool), and the test would measure its own stall.
final class RawConnection {
    /// Sends `bytes` one at a time, a tenth of a second apart, for at most a minute, until the
    /// server answers or closes: what it did (`timedOut`: it let the whole minute pass).
    func trickle(_ bytes: [UInt8]) -> Reading {
        let started = Date()
        for byte in bytes where -started.timeIntervalSinceNow < 60 {
            guard send([byte]) else { return .closed }
            let outcome = read(waitingUpTo: 0.1)
            if case .timedOut = outcome { continue }
            return outcome
        }
        return .timedOut
    }

    static func session<T: Sendable>(port: Int, _ body: @escaping @Sendable (RawConnection) -> T) async throws -> T {
        try await offCooperativePool { () -> Result<T, POSIXError> in
            Result { () throws(POSIXError) in body(try RawConnection(port: port)) }
        }.get()
    }

    let descriptor: Int32

    init(port: Int) throws(POSIXError) {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(descriptor) }

    /// Whether all bytes were sent (false once the server closed the connection).
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    enum Reading: Sendable {
        case bytes([UInt8])
        /// The server closed or reset the connection.
        case closed
        case timedOut
    }

    /// What the server sends within `seconds`.
    func read(waitingUpTo seconds: Double) -> Reading {
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        if count > 0 { return .bytes(Array(buffer[..<count])) }
        if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { return .timedOut }
        return .closed
    }
}

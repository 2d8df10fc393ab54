import SQLiteEngine
import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PhoneNumbers
import StoreContract
import Synchronization
import TestSupport
import Testing

@testable import CallerService

/// Every log line of a whole scenario, kept in memory.
final class CapturedLog: LogHandler, @unchecked Sendable {
    let lines = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let line = "\(event.level) \(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 })"
        lines.withLock { $0.append(line) }
    }
}

/// Issue 8, part 5: a full scenario's log holds no password, no Authorization header and no full
/// phone number.
@Suite struct LogPrivacyTests {
    @Test func aFullScenarioLogsNoSecretsAndNoNumbers() async throws {
        let fixture = try ServiceFixture()
        let ipex = try #require(try fixture.store.organization(named: "IPEX"))
        let token = try fixture.store.popupToken(organizationID: ipex.id)
        let captured = CapturedLog()
        var configuration = ServiceConfiguration()
        configuration.logLevel = .trace
        let app = buildApplication(
            configuration: configuration, store: fixture.store, logger: Logger(label: "test", factory: { _ in captured }))
        let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak")]
        try await app.test(.router) { client in
            var form = novak
            form[.contentType] = "multipart/form-data; boundary=XyZ"
            let body = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n"
                + "lastName;phone1\r\nNovák;+420222333444\r\nChybný;+42022233\r\n\r\n--XyZ--\r\n"
            _ = try await client.execute(uri: "/v3/contacts/upload", method: .post, headers: form, body: ByteBuffer(string: body))
            _ = try await client.execute(uri: "/v3/contacts/lookup/00420222333444", method: .get, headers: novak)
            _ = try await client.execute(
                uri: "/v3/contacts/lookup/00420222333444", method: .get, headers: [.authorization: ServiceFixture.basic("novak", "spatneHeslo")])
            var json = novak
            json[.contentType] = "application/json"
            _ = try await client.execute(
                uri: "/v3/contacts", method: .post, headers: json, body: ByteBuffer(string: #"{"lastName":"Nová","phone1":"+420601987654"}"#))
            _ = try await client.execute(uri: "/popup?token=\(token)&number=%2B420601987654", method: .get)
            _ = try await client.execute(uri: "/v3/contacts/route/+420601987654", method: .get, headers: novak)
        }
        let log = captured.lines.withLock { $0.joined(separator: "\n") }
        // The scenario is logged (so the checks below read something): the upload and the failure.
        #expect(log.contains("upload"), "\(log)")
        #expect(log.contains("authentication failed") && log.contains("novak"), "\(log)")
        for secret in ["hesloNovak", "spatneHeslo", "Basic ", "bm92YWs6", "authorization", "Authorization", token,
                       "420222333444", "222333444", "420601987654", "601987654", "4202223"]
        {
            #expect(!log.contains(secret), "the log contains '\(secret)'")
        }
    }

    /// Issue 15, 6: a login with a line break and a NUL is logged as one line, escaped: no client
    /// can forge a log line.
    @Test func aLoginWithControlCharactersLogsOneEscapedLine() async throws {
        let fixture = try ServiceFixture()
        let captured = CapturedLog()
        let app = buildApplication(
            configuration: ServiceConfiguration(), store: fixture.store, logger: Logger(label: "test", factory: { _ in captured }))
        let forged = "mallory\n2026-11-29T10.00.00+0000 notice caller-lookup upload organization=IPEX\u{0}"
        try await app.test(.router) { client in
            let response = try await client.execute(
                uri: "/v3/whoami", method: .get, headers: [.authorization: ServiceFixture.basic(forged, "x")])
            #expect(response.status == .unauthorized)
        }
        let failures = captured.lines.withLock { $0.filter { $0.contains("authentication failed") } }
        #expect(failures.count == 1)
        let line = try #require(failures.first)
        #expect(!line.contains("\n") && !line.contains("\u{0}"), "\(line.debugDescription)")
        #expect(line.contains(#"mallory\n2026-11-29T10.00.00+0000 notice caller-lookup upload organization=IPEX\u{0}"#), "\(line)")
    }
}

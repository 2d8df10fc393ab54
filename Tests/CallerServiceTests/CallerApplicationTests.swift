import NIOFoundationCompat
import CallerService
import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

@Suite struct CallerApplicationTests {
    let fixture: ServiceFixture
    var store: SQLiteStore { fixture.store }
    var configuration = ServiceConfiguration()

    init() throws {
        fixture = try ServiceFixture()
        configuration.uploadLimit = 4_096
    }

    static let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak")]
    static let cizi: HTTPFields = [.authorization: ServiceFixture.basic("cizi", "hesloCizi1")]

    /// A multipart body as curl's `--form file=@name` sends it.
    static func form(_ parts: [(name: String, bytes: [UInt8])], boundary: String = "------------------------d74496d66958873e")
        -> (HTTPFields, ByteBuffer)
    {
        var body: [UInt8] = []
        for part in parts {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\"; filename=\"import.csv\"\r\nContent-Type: text/csv\r\n\r\n".utf8)
            body += part.bytes
            body += Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        var headers = novak
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        return (headers, ByteBuffer(bytes: body))
    }

    func upload(_ client: some TestClientProtocol, _ bytes: [UInt8]) async throws -> TestResponse {
        let (headers, body) = Self.form([("file", bytes)])
        return try await client.execute(uri: "/v3/contacts/upload", method: .post, headers: headers, body: body)
    }

    @Test func customersSamplesThroughARealMultipartBody() async throws {
        let app = buildApplication(configuration: configuration, store: store)
        try await app.test(.router) { client in
            let minimal = try await upload(client, Fixtures.minimalCSV)
            #expect(minimal.status == .ok)
            #expect(String(buffer: minimal.body).hasPrefix(#"{"message":"uploaded","error":"","#))
            let maximal = try await upload(client, Fixtures.maximalCSV)
            #expect(maximal.status == .ok)
            #expect(String(buffer: maximal.body).contains(#""created":2,"updated":0,"deleted":1"#))
            // Read-your-writes: the lookup answered after the upload sees both contacts.
            try await client.execute(uri: "/v3/contacts/lookup/00420222333444", method: .get, headers: Self.novak) { response in
                #expect(response.status == .ok)
                let json = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(json?["match"] as? String == "exact")
                #expect((json?["contacts"] as? [[String: Any]])?.map { $0["displayName"] as? String } == ["Jan Novák", "Ivan Neúplný"])
            }
        }
    }

    @Test func rowErrorsComeBackInTheContractsWords() async throws {
        let app = buildApplication(configuration: configuration, store: store)
        try await app.test(.router) { client in
            let response = try await upload(client, Array("lastName;phone1\nNovák;+420222333444\nKrál;+42022233\n".utf8))
            #expect(response.status == .ok)
            let json = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            #expect(json?["error"] as? String == "Error on line number 3 occured. Column phone1: '+42022233' is not a valid phone number.")
        }
    }

    @Test func refusedUploadsChangeNothing() async throws {
        let app = buildApplication(configuration: configuration, store: store)
        try await app.test(.router) { client in
            #expect(try await upload(client, Fixtures.maximalCSV).status == .ok)
            // Rejected whole: unknown column, no valid row.
            for bad in ["lastName;phone3\nx;+420222333444\n", "lastName;phone1\nx;+42\n"] {
                let response = try await upload(client, Array(bad.utf8))
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).hasPrefix(#"{"message":"rejected","error":""#))
            }
            // Too large: over the (test) limit of 4 KiB.
            let large = try await upload(client, Array("lastName;phone1\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 5_000))
            #expect(large.status == .contentTooLarge)
            // Not multipart.
            var plain = Self.novak
            plain[.contentType] = "text/csv"
            let notMultipart = try await client.execute(uri: "/v3/contacts/upload", method: .post, headers: plain,
                                                        body: ByteBuffer(bytes: Fixtures.minimalCSV))
            #expect(notMultipart.status == .unsupportedMediaType)
            // Malformed multipart: no boundary, two files, no file part, truncated.
            var noBoundary = Self.novak
            noBoundary[.contentType] = "multipart/form-data"
            #expect(try await client.execute(uri: "/v3/contacts/upload", method: .post, headers: noBoundary,
                                             body: ByteBuffer(bytes: Fixtures.minimalCSV)).status == .badRequest)
            let (twoHeaders, twoBody) = Self.form([("file", Fixtures.minimalCSV), ("file", Fixtures.minimalCSV)])
            #expect(try await client.execute(uri: "/v3/contacts/upload", method: .post, headers: twoHeaders, body: twoBody).status == .badRequest)
            let (otherHeaders, otherBody) = Self.form([("data", Fixtures.minimalCSV)])
            #expect(try await client.execute(uri: "/v3/contacts/upload", method: .post, headers: otherHeaders, body: otherBody).status == .badRequest)
            var truncated = twoBody
            truncated.moveWriterIndex(to: 60)
            #expect(try await client.execute(uri: "/v3/contacts/upload", method: .post, headers: twoHeaders, body: truncated).status == .badRequest)
            // The first upload's contacts are all still there.
            try await client.execute(uri: "/v3/contacts/lookup/+420222333444", method: .get, headers: Self.novak) { response in
                #expect(String(buffer: response.body).contains(#""version":1,"url":"http://localhost/popup?number=%2B420222333444&token=v2."#))
                #expect(String(buffer: response.body).contains(#""labels":{},"contacts":[{"id":1"#))
            }
        }
    }

    @Test func credentialsAreRequiredEverywhere() async throws {
        let app = buildApplication(configuration: configuration, store: store)
        let garbage: HTTPFields = [.authorization: "Basic !!!"]
        try await app.test(.router) { client in
            for (index, uri) in ["/v3/contacts/lookup/222333444", "/v3/contacts/lookup?email=a@b.cz", "/v3/contacts/route/222333444",
                                 "/v3/contacts/validator/phone-number/+420222333444"].enumerated() {
                // A wrong password of a real login, then unknown logins: three failures of one login
                // would turn the next into a 429 (LoginThrottleTests).
                let login = index == 0 ? "novak" : "nikdo\(index)"
                let wrong: HTTPFields = [.authorization: "Basic " + Data("\(login):spatne".utf8).base64EncodedString()]
                for headers in [HTTPFields(), wrong, garbage] {
                    try await client.execute(uri: uri, method: .get, headers: headers) { response in
                        #expect(response.status == .unauthorized, "\(uri)")
                        #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
                    }
                }
            }
            #expect(try await client.execute(uri: "/v3/contacts/upload", method: .post).status == .unauthorized)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
    }

    /// A contact whose number has 16 digits in E.164 form is imported, stored and found by every
    /// form a PBX sends it in.
    @Test func numbersLongerThanFifteenDigitsAreImportedAndFound() async throws {
        let app = buildApplication(configuration: configuration, store: store)
        try await app.test(.router) { client in
            let csv = Array("lastName;phone1\nHotline;+49 800 12345678908\n".utf8)
            let report = try await upload(client, csv)
            #expect(String(buffer: report.body).hasPrefix(#"{"message":"uploaded","error":"","#))
            for number in ["+4980012345678908", "004980012345678908", "tel:+49-800-12345678908", "4980012345678908"] {
                try await client.execute(uri: "/v3/contacts/lookup/\(number)", method: .get, headers: Self.novak) { response in
                    #expect(response.status == .ok, "\(number)")
                    #expect(String(buffer: response.body).contains(#""phone1":"+4980012345678908""#), "\(number)")
                }
            }
        }
    }

    @Test func organizationsNeverSeeEachOthersContacts() async throws {
        let app = buildApplication(configuration: configuration, store: store)
        try await app.test(.router) { client in
            #expect(try await upload(client, Fixtures.maximalCSV).status == .ok)
            for uri in ["/v3/contacts/lookup/+420222333444", "/v3/contacts/lookup?email=jan@novak.com", "/v3/contacts/route/+420222333444"] {
                try await client.execute(uri: uri, method: .get, headers: Self.cizi) { response in
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(!String(buffer: response.body).contains("Novák"))
                }
            }
        }
    }

    @Test func routeAnswersTheIVR() async throws {
        let app = buildApplication(configuration: configuration, store: store)
        try await app.test(.router) { client in
            #expect(try await upload(client, Fixtures.maximalCSV).status == .ok)
            var plain = Self.novak
            plain[.accept] = "text/plain"
            try await client.execute(uri: "/v3/contacts/route/222333444", method: .get, headers: plain) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "22,100\n")
            }
            try await client.execute(uri: "/v3/contacts/route/tel:+420-222-333-444", method: .get, headers: Self.novak) { response in
                #expect(String(buffer: response.body) == #"{"agents":["22","100"],"contactId":1,"match":"exact","version":1}"#)
            }
            #expect(try await client.execute(uri: "/v3/contacts/route/+420999888777", method: .get, headers: Self.novak).status == .notFound)
        }
    }

    @Test func lookupsByNumberAndEmail() async throws {
        let app = buildApplication(configuration: configuration, store: store)
        try await app.test(.router) { client in
            #expect(try await upload(client, Fixtures.maximalCSV).status == .ok)
            try await client.execute(uri: "/v3/contacts/lookup/%2B420%20222%20333%20444", method: .get, headers: Self.novak) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v3/contacts/lookup/+420999888777", method: .get, headers: Self.novak) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains(#""match":"none","version":1,"labels":{},"contacts":[]"#))
            }
            try await client.execute(uri: "/v3/contacts/lookup?email=JAN%40Novak.com", method: .get, headers: Self.novak) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""displayName":"Jan Novák""#))
            }
            let long = String(repeating: "1", count: 500)
            #expect(try await client.execute(uri: "/v3/contacts/lookup/\(long)", method: .get, headers: Self.novak).status == .badRequest)
        }
    }

    @Test func validator() async throws {
        let app = buildApplication(configuration: configuration, store: store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v3/contacts/validator/phone-number/+42022233", method: .get, headers: Self.novak) { response in
                #expect(String(buffer: response.body).hasPrefix(#"{"valid":false,"reason":"too short""#))
            }
            try await client.execute(uri: "/v3/contacts/validator/phone-number/222333444?region=CZ", method: .get, headers: Self.novak) { response in
                #expect(String(buffer: response.body).contains(#""e164":"+420222333444""#))
            }
            // More than 15 digits in E.164 form, as libphonenumber allows (German toll-free).
            for (number, e164) in [("+49%20800%2012345678908", "+4980012345678908"), ("0800%2012345678903?region=DE", "+4980012345678903"),
                                   ("%2B4980012345678907", "+4980012345678907")] {
                try await client.execute(uri: "/v3/contacts/validator/phone-number/\(number)", method: .get, headers: Self.novak) { response in
                    let body = String(buffer: response.body)
                    #expect(body.hasPrefix(#"{"valid":true"#), "\(number): \(body)")
                    #expect(body.contains(#""e164":"\#(e164)""#), "\(number): \(body)")
                    #expect(body.contains(#""TOLL_FREE""#), "\(number): \(body)")
                }
            }
        }
    }
}

extension CallerApplicationTests {
    @Test func metricsCountLookupsUploadsAndTheIndex() async throws {
        var configuration = self.configuration
        configuration.metricsToken = "prometheus-secret"
        let app = buildApplication(configuration: configuration, store: store)
        try await app.test(.router) { client in
            #expect(try await upload(client, Fixtures.maximalCSV).status == .ok)
            _ = try await client.execute(uri: "/v3/contacts/lookup/222333444", method: .get, headers: Self.novak)
            _ = try await client.execute(uri: "/v3/contacts/lookup/+420999888777", method: .get, headers: Self.novak)
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains(#"caller_lookup_lookups_total{match="exact"} 1"#))
                #expect(text.contains(#"caller_lookup_lookups_total{match="none"} 1"#))
                #expect(text.contains(#"caller_lookup_uploads_total{outcome="uploaded"} 1"#))
                #expect(text.contains(#"caller_lookup_upload_rows_total{outcome="imported"} 2"#))
                #expect(text.contains("caller_lookup_index_contacts 2"))
                #expect(text.contains("caller_lookup_lookup_duration_seconds_bucket"))
                #expect(!text.contains("222333444"), "no phone numbers in metrics")
                // Issue 15, 5: without the token, no organization is named.
                #expect(!text.contains("organization=") && !text.contains("IPEX"), "\(text)")
            }
            for wrong in ["Bearer prometheus-secreT", "Bearer ", "Basic cHJvbWV0aGV1czpzZWNyZXQ=", "prometheus-secret"] {
                let text = String(buffer: try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: wrong]).body)
                #expect(!text.contains("IPEX"), "\(wrong)")
            }
            let tenants = try await client.execute(
                uri: "/metrics", method: .get, headers: [.authorization: "Bearer prometheus-secret"])
            #expect(String(buffer: tenants.body).contains(#"caller_lookup_organization_index_version{organization="IPEX"} 1"#))
        }
    }

    /// Issue 15, 4: a file of 500,000 bad rows (2 MB) answers a report under 1 MB that still counts
    /// every row; a file with some good rows lists the first errors and says how many more.
    @Test func aReportOfManyBadRowsStaysSmall() async throws {
        var configuration = self.configuration
        configuration.uploadLimit = 20 << 20
        let app = buildApplication(configuration: configuration, store: store)
        let bad = Array("lastName;phone1\n".utf8) + Array(repeating: Array("x;1\n".utf8), count: 500_000).joined()
        let mixed = Array("lastName;phone1\nDobrý;+420 222 333 444\n".utf8)
            + (0..<5_000).flatMap { Array("Špatný \($0);+42022\n".utf8) }
        try await app.test(.router) { client in
            let refused = try await upload(client, bad)
            #expect(refused.status == .badRequest)
            #expect(refused.body.readableBytes < 1 << 20, "\(refused.body.readableBytes) bytes")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: refused.body)) as? [String: Any])
            #expect((json["errors"] as? [Any])?.count == RejectedRowList.listLimit)
            #expect(json["errorsOmitted"] as? Int == 500_000 - RejectedRowList.listLimit)
            #expect((json["error"] as? String)?.contains("500000 rejected") == true)
            #expect((json["error"] as? String)?.hasSuffix("… and 499000 more rejected rows, not listed.") == true)

            let partial = try await upload(client, mixed)
            #expect(partial.status == .ok)
            #expect(partial.body.readableBytes < 1 << 20)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(buffer: partial.body)) as? [String: Any])
            #expect(report["imported"] as? Int == 1)
            #expect(report["rejected"] as? Int == 5_000)
            #expect(report["errorsOmitted"] as? Int == 4_000)
            let errors = try #require(report["errors"] as? [[String: Any]])
            #expect(errors.count == 1_000 && errors.first?["line"] as? Int == 3 && errors.last?["line"] as? Int == 1_002)
        }
    }
}

import AsyncHTTPClient
import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PhoneNumbers
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

@testable import CallerService

/// CRM sync against a real HTTP server: CSV and paged JSON exports, credentials, conditional
/// fetches, the wipe guard, retries, timeouts, removal mid-run, the schedule and the API.
@Suite(.serialized) struct SyncTests {
    let fixture: ServiceFixture
    let server = ExportServer()
    let organizationID: Int64
    let validator = PhoneNumberValidator()

    init() throws {
        fixture = try ServiceFixture()
        organizationID = try #require(try fixture.store.organization(named: "IPEX")).id
    }

    var store: SQLiteRecordStore { SQLiteRecordStore(fixture.store) }

    static var settings: SyncSettings {
        var settings = SyncSettings()
        settings.retryDelay = .milliseconds(20)
        settings.pageTimeout = .seconds(5)
        return settings
    }

    func runner(_ settings: SyncSettings = SyncTests.settings) -> SyncRunner {
        var logger = Logger(label: "sync-test")
        logger.logLevel = .critical
        return SyncRunner(store: store, settings: settings, logger: logger)
    }

    func add(
        _ path: String, format: String = "csv", mode: String = "replace", every: String? = nil, headers: [String] = [], maps: [String],
        items: String? = nil, next: String? = nil, region: String? = nil, maxDelete: Int? = nil
    ) async throws -> SyncSource {
        let definition = try SyncRules.definition(
            url: server.url + path, format: format, mode: mode, every: every, headers: headers, mappings: maps, items: items, next: next,
            region: region, maxDeletePercent: maxDelete, validator: validator)
        return try await store.addSyncSource(definition, organizationID: organizationID)
    }

    func contacts() throws -> [Contact] {
        try fixture.store.fullLoad(organizationID: organizationID).contacts.map(\.contact)
    }

    func withServer(_ body: () async throws -> Void) async throws {
        try await server.start()
        do {
            try await body()
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static let crmMapping = ["lastName=Surname", "firstName=Given name", "phone1=Mobile Phone", "email=E-mail"]

    @Test func aCSVExportWithItsOwnColumnsCommasAndQuotes() async throws {
        try await withServer {
            server.serve("/export.csv", .init(body: """
                Id,Surname,Given name,Mobile Phone,E-mail,Notes
                1,Novák,Jan,+420 601 234 567,jan@example.com,"likes, commas"
                2,"Svoboda, Jr.",Petr,+420601234568,,"two
                lines"
                3,Bad,Number,12345,,
                """))
            let source = try await add("/export.csv", maps: Self.crmMapping)
            let run = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(run.outcome == .success && run.httpStatus == 200 && run.id > 0)
            #expect(run.imported == 2 && run.created == 2 && run.rejected == 1)
            // The export's own line numbers (the quoted line break moves the third row to line 5).
            #expect(run.errorLines == ["Error on line number 5 occured. Column phone1: '12345' is not a valid phone number."])
            let stored = try contacts()
            #expect(stored.map { $0[.lastName] } == ["Novák", "Svoboda, Jr."])
            #expect(stored.map { $0[.phone1] } == ["+420601234567", "+420601234568"])
            #expect(stored.first?[.email] == "jan@example.com")
            let kept = try await store.syncRuns(sourceID: source.id, organizationID: organizationID, limit: 5)
            #expect(kept.map(\.id) == [run.id] && kept.first?.trigger == .hand)
        }
    }

    @Test func tabsAndSemicolonsAreDetectedAndAMissingColumnIsNamed() async throws {
        try await withServer {
            server.serve("/tabs.csv", .init(body: "Surname\tGiven name\tMobile Phone\tE-mail\nNovák\tJan\t+420601234567\t\n"))
            server.serve("/missing.csv", .init(body: "Surname;Phone\nNovák;+420601234567\n"))
            let tabs = try await add("/tabs.csv", maps: Self.crmMapping)
            #expect(try await runner().runNow(sourceID: tabs.id, organizationID: organizationID).imported == 1)
            let missing = try await add("/missing.csv", maps: Self.crmMapping)
            let run = try await runner().runNow(sourceID: missing.id, organizationID: organizationID)
            #expect(run.outcome == .refused)
            #expect(run.message.contains("no column 'Given name'"))
            #expect(try contacts().count == 1, "a refused run changes nothing")
        }
    }

    static func page(_ items: [String], next: String?) -> String {
        "{\"data\":{\"contacts\":[\(items.joined(separator: ","))]},\"paging\":{\"next\":\(next.map { "\"\($0)\"" } ?? "null")}}"
    }

    static func item(_ index: Int, phone: String? = nil) -> String {
        """
        {"id":"c\(index)","properties":{"firstname":"Jana","lastname":"Dvořák \(index)"},"phones":[{"number":"\(phone ?? "+4206012\(String(format: "%05d", index))")"}],"tags":["vip","sales"],"score":\(index)}
        """
    }

    static let jsonMapping = [
        "externalId=$.id", "firstName=$.properties.firstname", "lastName=$.properties.lastname", "phone1=$.phones[0].number", "agent1=$.tags",
        "customField1=$.score",
    ]

    @Test func pagedJSONWithTheNextPageInTheBody() async throws {
        try await withServer {
            server.serve("/contacts?page=1", .init(body: Self.page((1...3).map { Self.item($0) }, next: "/contacts?page=2")))
            // A relative next link, an item with a bad number at position 5 overall.
            server.serve("/contacts?page=2", .init(body: Self.page([Self.item(4), Self.item(5, phone: "nope"), Self.item(6)], next: "contacts?page=3")))
            server.serve("/contacts?page=3", .init(body: Self.page([Self.item(7)], next: nil)))
            let source = try await add(
                "/contacts?page=1", format: "json", maps: Self.jsonMapping, items: "$.data.contacts", next: "$.paging.next")
            let run = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(run.outcome == .success && run.pages == 3)
            #expect(run.imported == 6 && run.rejected == 1)
            #expect(run.errorLines == ["Error on line number 5 occured. Column phone1: 'nope' is not a valid phone number."])
            let first = try #require(try contacts().first)
            #expect(first[.externalId] == "c1" && first[.lastName] == "Dvořák 1" && first[.agent1] == "vip, sales" && first[.customField1] == "1")
        }
    }

    @Test func pagedJSONWithLinkHeadersAndABearerToken() async throws {
        try await withServer {
            let token = "Bearer s3cr3t-crm-token"
            for page in 1...3 {
                server.on("/people?p=\(page)") { request, _ in
                    guard request.headerFields[.authorization] == token else { return .init(status: .unauthorized, body: "{\"error\":\"no\"}") }
                    var headers: HTTPFields = [.contentType: "application/json"]
                    if page < 3 { headers[HTTPField.Name("Link")!] = "<\(self.server.url)/people?p=\(page + 1)>; rel=\"next\", <\(self.server.url)/people?p=1>; rel=\"first\"" }
                    return .init(headers: headers, body: "[\(Self.item(page))]")
                }
            }
            let without = try await add("/people?p=1", format: "json", maps: Self.jsonMapping)
            let refused = try await runner().runNow(sourceID: without.id, organizationID: organizationID)
            #expect(refused.outcome == .failed && refused.httpStatus == 401)
            #expect(refused.message.contains("answered 401") && refused.message.contains("credentials"))
            #expect(server.received("/people?p=1").count == 1, "a 4xx is not retried")

            let with = try await add("/people?p=1", format: "json", headers: ["Authorization: \(token)"], maps: Self.jsonMapping)
            let run = try await runner().runNow(sourceID: with.id, organizationID: organizationID)
            #expect(run.outcome == .success && run.pages == 3 && run.imported == 3)
            // The token is in no answer: the source as listed, the run.
            let listed = try await store.syncSources(organizationID: organizationID).map { SyncJSON.source($0, lastRun: run) }.joined()
            #expect(!listed.contains("s3cr3t") && listed.contains("Bearer ***"))
            #expect(!SyncJSON.run(run).contains("s3cr3t"))
        }
    }

    @Test func aSecondRunOfAnUnchangedExportIsNotModified() async throws {
        try await withServer {
            server.on("/export.csv") { request, _ in
                if request.headerFields[HTTPField.Name("If-None-Match")!] == "\"v1\"" { return .init(status: .notModified) }
                return .init(headers: [HTTPField.Name("ETag")!: "\"v1\""], body: "Surname;Given name;Mobile Phone;E-mail\nNovák;Jan;+420601234567;\n")
            }
            let source = try await add("/export.csv", maps: Self.crmMapping)
            let first = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(first.outcome == .success && first.version == 1)
            let second = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(second.outcome == .unchanged && second.httpStatus == 304 && second.imported == 0)
            #expect(try fixture.store.organization(id: organizationID)?.version == 1, "a 304 imports nothing")
            #expect(server.received("/export.csv").last?.headerFields[HTTPField.Name("User-Agent")!]?.hasPrefix("caller-lookup/") == true)
        }
    }

    @Test func anEmptyOrHalfEmptyExportIsRefusedAndTheContactsStay() async throws {
        try await withServer {
            let header = "Surname;Given name;Mobile Phone;E-mail\n"
            let rows = (0..<10).map { "Person \($0);X;+4206013000\(String(format: "%02d", $0));\n" }
            let body = Shared(header + rows.joined())
            server.on("/export.csv") { _, _ in .init(body: body.withLock { $0 }) }
            let source = try await add("/export.csv", maps: Self.crmMapping)
            #expect(try await runner().runNow(sourceID: source.id, organizationID: organizationID).created == 10)

            body.withLock { $0 = header }
            let empty = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(empty.outcome == .refused && empty.message.contains("no contact rows"))
            body.withLock { $0 = header + rows.prefix(4).joined() }
            let half = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(half.outcome == .refused)
            #expect(half.message.contains("would delete 6 of the organization's 10 contacts (60%), more than the 50% allowed"))
            body.withLock { $0 = header + "Bad;Row;123;\n" }
            let invalid = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(invalid.outcome == .refused && invalid.errorLines.first?.hasPrefix("Error on line number 2 occured.") == true)
            #expect(try contacts().count == 10, "no refused run deleted anything")

            body.withLock { $0 = header + rows.prefix(6).joined() }
            let fine = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(fine.outcome == .success && fine.deleted == 4 && fine.unchanged == 6)
        }
    }

    @Test func aServerErrorIsRetriedAndThenRecovers() async throws {
        try await withServer {
            server.on("/flaky.csv") { _, count in
                count < 2 ? .init(status: .internalServerError, body: "busy") : .init(body: "Surname;Given name;Mobile Phone;E-mail\nNovák;Jan;+420601234567;\n")
            }
            let source = try await add("/flaky.csv", maps: Self.crmMapping)
            let run = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(run.outcome == .success && server.received("/flaky.csv").count == 3)

            server.serve("/down.csv", .init(status: .badGateway, body: "down"))
            var once = Self.settings
            once.retries = 1
            let down = try await add("/down.csv", maps: Self.crmMapping)
            let failed = try await runner(once).runNow(sourceID: down.id, organizationID: organizationID)
            #expect(failed.outcome == .failed && failed.httpStatus == 502 && failed.message.contains("after 2 attempts"))
            #expect(server.received("/down.csv").count == 2)
            #expect(try contacts().count == 1)
        }
    }

    @Test func aSlowServerHitsTheTimeoutAndNothingChanges() async throws {
        try await withServer {
            server.serve("/slow.csv", .init(body: "Surname;Given name;Mobile Phone;E-mail\nNovák;Jan;+420601234567;\n", delay: .seconds(3)))
            var impatient = Self.settings
            impatient.pageTimeout = .seconds(1)
            let source = try await add("/slow.csv", maps: Self.crmMapping)
            let started = ContinuousClock.now
            let run = try await runner(impatient).runNow(sourceID: source.id, organizationID: organizationID)
            #expect(run.outcome == .failed && run.message.contains("within 1 s"))
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(try contacts().isEmpty)
        }
    }

    @Test func aSourceRemovedWhileRunningImportsNothing() async throws {
        try await withServer {
            server.serve("/slow.csv", .init(body: "Surname;Given name;Mobile Phone;E-mail\nNovák;Jan;+420601234567;\n", delay: .milliseconds(800)))
            let source = try await add("/slow.csv", maps: Self.crmMapping)
            let runner = runner()
            let organizationID = self.organizationID
            let running = Task { try await runner.runNow(sourceID: source.id, organizationID: organizationID) }
            for _ in 0..<100 where !runner.isRunning(sourceID: source.id) { try await Task.sleep(for: .milliseconds(10)) }
            // Another process removes it (nothing cancels this run): the run sees it gone before importing.
            try await store.removeSyncSource(id: source.id, organizationID: organizationID)
            let run = try await running.value
            #expect(run.outcome == .failed && run.message.contains("nothing was imported"))
            #expect(try contacts().isEmpty)
            #expect(try await store.syncRuns(sourceID: source.id, organizationID: organizationID, limit: 5).isEmpty)

            // Removed through this node: its run is stopped at once.
            let again = try await add("/slow.csv", maps: Self.crmMapping)
            let stopped = Task { try await runner.runNow(sourceID: again.id, organizationID: organizationID) }
            for _ in 0..<100 where !runner.isRunning(sourceID: again.id) { try await Task.sleep(for: .milliseconds(10)) }
            let started = ContinuousClock.now
            try await store.removeSyncSource(id: again.id, organizationID: organizationID)
            runner.cancel(sourceID: again.id)
            #expect(try await stopped.value.outcome == .failed)
            #expect(ContinuousClock.now - started < .milliseconds(700))
            #expect(try contacts().isEmpty)
        }
    }

    @Test func aRunThatIsGoingIsNotStartedTwice() async throws {
        try await withServer {
            server.serve("/slow.csv", .init(body: "Surname;Given name;Mobile Phone;E-mail\nNovák;Jan;+420601234567;\n", delay: .milliseconds(500)))
            let source = try await add("/slow.csv", maps: Self.crmMapping)
            let (first, second) = (runner(), runner())
            let organizationID = self.organizationID
            let running = Task { try await first.runNow(sourceID: source.id, organizationID: organizationID) }
            for _ in 0..<100 where !first.isRunning(sourceID: source.id) { try await Task.sleep(for: .milliseconds(10)) }
            await #expect(throws: SyncBusy.self) { try await second.runNow(sourceID: source.id, organizationID: organizationID) }
            #expect(try await running.value.outcome == .success)
            #expect(try await second.runNow(sourceID: source.id, organizationID: organizationID).outcome == .success, "the lease ended with the run")
        }
    }

    @Test func anUpsertSourceCreatesAndUpdatesByExternalIdAndDeletesNothing() async throws {
        try await withServer {
            let body = Shared("[\(Self.item(1)),\(Self.item(2))]")
            server.on("/upsert") { _, _ in .init(body: body.withLock { $0 }) }
            let source = try await add("/upsert", format: "json", mode: "upsert", maps: Self.jsonMapping)
            let first = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(first.outcome == .success && first.created == 2)
            body.withLock { $0 = "[\(Self.item(2).replacingOccurrences(of: "Jana", with: "Janička")),\(Self.item(3))]" }
            let second = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(second.created == 1 && second.updated == 1 && second.deleted == 0)
            #expect(try contacts().count == 3)
            #expect(try contacts().contains { $0[.externalId] == "c2" && $0[.firstName] == "Janička" })
            // An item without an id cannot be upserted: rejected by its position.
            body.withLock { $0 = "[\(Self.item(4)),\(Self.item(5).replacingOccurrences(of: "\"id\":\"c5\",", with: ""))]" }
            let third = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(third.created == 1 && third.rejected == 1)
            #expect(third.errorLines == ["Error on line number 2 occured. Column externalId: a value is required."])
        }
    }

    @Test func numbersAsUsersTypedThemAreReadInTheSourcesRegion() async throws {
        try await withServer {
            server.serve("/local.csv", .init(body: "Surname;Given name;Mobile Phone;E-mail\nA;A;601 234 567;\nB;B;00420 601 234 568;\nC;C;+49 30 1234567;\nD;D;222;\n"))
            let source = try await add("/local.csv", maps: Self.crmMapping, region: "cz")
            let run = try await runner().runNow(sourceID: source.id, organizationID: organizationID)
            #expect(run.imported == 3 && run.rejected == 1)
            #expect(try contacts().map { $0[.phone1] } == ["+420601234567", "+420601234568", "+49301234567"])
            // Without a region the upload's rule holds: international form only.
            let strict = try await add("/local.csv", maps: Self.crmMapping, maxDelete: 100)
            let refused = try await runner().runNow(sourceID: strict.id, organizationID: organizationID)
            #expect(refused.imported == 1 && refused.rejected == 3)
        }
    }

    @Test func theScheduleRunsADueSourceOncePerSlotAndPicksUpNewOnes() async throws {
        try await withServer {
            server.serve("/export.csv", .init(body: "Surname;Given name;Mobile Phone;E-mail\nNovák;Jan;+420601234567;\n"))
            _ = try await add("/export.csv", every: "1h", maps: Self.crmMapping)
            let byHand = try await add("/export.csv", maps: Self.crmMapping)
            var configuration = ServiceConfiguration()
            configuration.sync = Self.settings
            configuration.sync.tick = .milliseconds(50)
            let node = CallerNode(configuration: configuration, store: store)
            let scheduler = Task { try await node.syncScheduler().run() }
            try await eventually { server.received("/export.csv").count == 1 }
            // A source added meanwhile (as `sync add` beside a running server would) is picked up.
            server.serve("/second.csv", .init(body: "Surname;Given name;Mobile Phone;E-mail\nNovák;Jan;+420601234567;\nSvoboda;Petr;+420601234568;\n"))
            let second = try await add("/second.csv", every: "1h", maps: Self.crmMapping)
            try await eventually { server.received("/second.csv").count == 1 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(server.received("/export.csv").count == 1, "one run per slot")
            #expect(try await store.syncRuns(sourceID: byHand.id, organizationID: organizationID, limit: 5).isEmpty, "by hand only")
            let runs = try await store.syncRuns(sourceID: second.id, organizationID: organizationID, limit: 5)
            #expect(runs.map(\.trigger) == [.schedule] && runs.first?.outcome == .success)
            // Stopped and awaited before the export server stops: no run may connect to a server
            // that is shutting down (NIO traps on a connection accepted then).
            scheduler.cancel()
            _ = await scheduler.result
        }
    }

    func eventually(_ condition: () throws -> Bool) async throws {
        for _ in 0..<200 {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("the condition never held")
    }

    @Test func pagesOverTheLimitsFailAndChangeNothing() async throws {
        try await withServer {
            var small = Self.settings
            small.pageLimit = 2_000
            server.serve("/big.csv", .init(body: "Surname;Given name;Mobile Phone;E-mail\n" + String(repeating: "Novák;Jan;+420601234567;\n", count: 200)))
            let big = try await add("/big.csv", maps: Self.crmMapping)
            let tooLarge = try await runner(small).runNow(sourceID: big.id, organizationID: organizationID)
            #expect(tooLarge.outcome == .failed && tooLarge.message.contains("larger than"))
            // Pages each under the page limit, together over ten of them.
            for page in 1...16 {
                let items = (0..<9).map { Self.item(page * 10 + $0) }
                server.serve("/many?p=\(page)", .init(body: "{\"items\":[\(items.joined(separator: ","))],\"next\":\(page < 16 ? "\"/many?p=\(page + 1)\"" : "null")}"))
            }
            let many = try await add("/many?p=1", format: "json", maps: Self.jsonMapping, items: "$.items", next: "$.next")
            let over = try await runner(small).runNow(sourceID: many.id, organizationID: organizationID)
            #expect(over.outcome == .failed && over.message.contains("add up to more than"))
            var fewer = small
            fewer.maxPages = 3
            let capped = try await runner(fewer).runNow(sourceID: many.id, organizationID: organizationID)
            #expect(capped.outcome == .failed && capped.message.contains("more than 3 pages"))
            #expect(try contacts().isEmpty)
            // A page that is not JSON, or whose items are not where the source says.
            server.serve("/broken.json", .init(body: "{\"items\": [1, 2"))
            let broken = try await add("/broken.json", format: "json", maps: Self.jsonMapping, items: "$.items")
            #expect(try await runner().runNow(sourceID: broken.id, organizationID: organizationID).message.contains("is not JSON"))
            server.serve("/object.json", .init(body: "{\"data\": {\"contacts\": {}}}"))
            let object = try await add("/object.json", format: "json", maps: Self.jsonMapping, items: "$.data.contacts")
            #expect(try await runner().runNow(sourceID: object.id, organizationID: organizationID).message.contains("$.data.contacts is an object"))
        }
    }

    @Test func theLastFiftyRunsAreKept() async throws {
        try await withServer {
            server.serve("/broken.csv", .init(status: .notFound))
            let source = try await add("/broken.csv", maps: Self.crmMapping)
            for _ in 0..<53 { _ = try await runner().runNow(sourceID: source.id, organizationID: organizationID) }
            let runs = try await store.syncRuns(sourceID: source.id, organizationID: organizationID, limit: 100)
            #expect(runs.count == SyncRun.kept && runs.allSatisfy { $0.outcome == .failed && $0.httpStatus == 404 })
        }
    }
}

import HummingbirdTesting

extension SyncTests {
    @Test func theAPIAndTheAdminPage() async throws {
        try await withServer {
            server.on("/export.csv") { request, _ in
                guard request.headerFields[.authorization] == "Bearer crm-secret-42" else { return .init(status: .forbidden) }
                return .init(body: "Surname;Given name;Mobile Phone;E-mail\nNovák;Jan;+420601234567;\n")
            }
            try fixture.store.addUser(login: "editor", password: "hesloEditor", role: .editor, organizationID: organizationID)
            let app = buildApplication(configuration: ServiceConfiguration(), store: fixture.store)
            let serverURL = server.url
            let organizationID = self.organizationID
            try await app.test(.router) { client in
                let admin: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak"), .contentType: "application/json"]
                func send(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil, as headers: HTTPFields = admin) async throws -> (HTTPResponse.Status, String) {
                    let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                    return (response.status, String(buffer: response.body))
                }
                // Refused with the reason: an unknown field, no phone1, a schedule under a minute, a bad path, not JSON.
                let unknown = try await send(.post, "/v3/sync", #"{"url":"\#(serverURL)/export.csv","mapping":{"phone1":"a","surname":"b"}}"#)
                #expect(unknown.0 == .unprocessableContent && unknown.1.contains("unknown field 'surname'"))
                let noPhone = try await send(.post, "/v3/sync", #"{"url":"\#(serverURL)/export.csv","mapping":{"lastName":"b"}}"#)
                #expect(noPhone.0 == .unprocessableContent && noPhone.1.contains("phone1"))
                let often = try await send(.post, "/v3/sync", #"{"url":"\#(serverURL)/x","every":"30s","mapping":{"lastName":"b","phone1":"c"}}"#)
                #expect(often.0 == .unprocessableContent && often.1.contains("once a minute"))
                let path = try await send(.post, "/v3/sync", #"{"url":"\#(serverURL)/x","format":"json","mapping":{"lastName":"$.a[x]","phone1":"$.b"}}"#)
                #expect(path.0 == .unprocessableContent && path.1.contains("lastName"))
                #expect(try await send(.post, "/v3/sync", "[1]").0 == .badRequest)
                #expect(try await send(.post, "/v3/sync", #"{"url":"ftp://x/","mapping":{}}"#).0 == .unprocessableContent)

                let created = try await send(.post, "/v3/sync", """
                    {"url":"\(serverURL)/export.csv","every":"15m","headers":{"Authorization":"Bearer crm-secret-42"},
                     "mapping":{"lastName":"Surname","firstName":"Given name","phone1":"Mobile Phone"}}
                    """)
                #expect(created.0 == .created && created.1.contains(#""Authorization":"Bearer ***""#) && !created.1.contains("crm-secret"))
                #expect(created.1.contains(#""everySeconds":900"#))
                let listed = try await send(.get, "/v3/sync")
                #expect(listed.0 == .ok && listed.1.contains(#""id":1"#) && !listed.1.contains("crm-secret"))

                let run = try await send(.post, "/v3/sync/1/run")
                #expect(run.0 == .ok && run.1.contains(#""outcome":"success""#) && run.1.contains(#""imported":1"#))
                let runs = try await send(.get, "/v3/sync/1/runs")
                #expect(runs.0 == .ok && runs.1.contains(#""trigger":"hand""#))
                #expect(try await send(.get, "/v3/sync/9/runs").0 == .notFound)

                // Only admins.
                let editor: HTTPFields = [.authorization: ServiceFixture.basic("editor", "hesloEditor"), .contentType: "application/json"]
                #expect(try await send(.get, "/v3/sync", as: editor).0 == .forbidden)
                #expect(try await send(.post, "/v3/sync/1/run", as: editor).0 == .forbidden)

                // The admin page: the source, its runs, and Run now.
                var browser = AdminPagesTests.Browser()
                _ = try await browser.signIn(client, "novak", "hesloNovak")
                let page = try await browser.get(client, "/admin/sync")
                let html = AdminPagesTests.html(page)
                #expect(page.status == .ok && html.contains("id=\"source-1\"") && html.contains("Bearer ***") && !html.contains("crm-secret"))
                #expect(html.contains("<td>success</td>"))
                let ranNow = try await browser.post(client, "/admin/sync/1/run", [("csrf", try AdminPagesTests.csrf(page))])
                #expect(ranNow.status == .ok && AdminPagesTests.html(ranNow).contains("id=\"run-result\""))
                #expect(try await browser.post(client, "/admin/sync/1/run", [("csrf", "forged")]).status == .forbidden)

                let removed = try await send(.delete, "/v3/sync/1")
                #expect(removed.0 == .ok)
                #expect(try await send(.post, "/v3/sync/1/run").0 == .notFound)
                #expect(try await send(.delete, "/v3/sync/1").0 == .notFound)
            }
            #expect(try await store.syncSources(organizationID: organizationID).isEmpty)
        }
    }
}

import PostgresEngine

/// Two API nodes on one PostgreSQL store, both schedulers due for the same slot of one source:
/// one of them runs it, once.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CALLER_LOOKUP_TEST_POSTGRES_URL"] != nil, "set CALLER_LOOKUP_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct PostgresSyncTests {
    @Test func twoNodesRunOneSourceOncePerSlot() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["CALLER_LOOKUP_TEST_POSTGRES_URL"])
        let server = ExportServer()
        try await server.start()
        server.serve("/export.csv", .init(body: "Surname;Mobile\nNovák;+420601234567\nSvoboda;+420601234568\n", delay: .milliseconds(200)))
        let (a, b) = (try PostgresStore(url: url, patience: .seconds(30)), try PostgresStore(url: url, patience: .seconds(30)))
        try await withThrowingTaskGroup(of: Void.self) { pools in
            pools.addTask { await a.run() }
            pools.addTask { await b.run() }
            defer { pools.cancelAll() }
            try await a.migrate()
            let organization = try await a.createOrganization(name: "sync-nodes-\(UUID().uuidString.prefix(8))", defaultRegion: "CZ")
            let definition = try SyncRules.definition(
                url: server.url + "/export.csv", format: nil, mode: nil, every: "1h", headers: [], mappings: ["lastName=Surname", "phone1=Mobile"],
                items: nil, next: nil, region: nil, maxDeletePercent: nil, validator: PhoneNumberValidator())
            let source = try await a.addSyncSource(definition, organizationID: organization.id)
            var logger = Logger(label: "sync-test")
            logger.logLevel = .critical
            let runners = [SyncRunner(store: a, logger: logger), SyncRunner(store: b, logger: logger)]
            for slot in Int64(1)...2 {
                let ran = try await withThrowingTaskGroup(of: SyncRun?.self) { group in
                    for index in 0..<6 {
                        let runner = runners[index % 2]
                        group.addTask { try await runner.run(sourceID: source.id, organizationID: organization.id, trigger: .schedule, slot: slot) }
                    }
                    return try await group.reduce(into: [SyncRun]()) { if let run = $1 { $0.append(run) } }
                }
                #expect(ran.count == 1, "slot \(slot)")
            }
            #expect(server.received("/export.csv").count == 2)
            let runs = try await b.syncRuns(sourceID: source.id, organizationID: organization.id, limit: 10)
            #expect(runs.count == 2 && runs.allSatisfy { $0.outcome == .success })
            #expect(try await b.fullLoad(organizationID: organization.id).contacts.count == 2)
            try await a.removeSyncSource(id: source.id, organizationID: organization.id)
        }
        await server.stop()
    }
}

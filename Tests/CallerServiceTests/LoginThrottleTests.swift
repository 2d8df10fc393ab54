import ContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CallerService

/// Failed logins are throttled per login, over HTTP: the fourth try of a login that failed three
/// times is refused with 429 without its password being checked, while other logins and
/// credentials verified before carry on. (The throttle is set to 10 minutes, so nothing here
/// depends on how fast the machine is.)
@Suite struct LoginThrottleTests {
    func get(_ client: some TestClientProtocol, _ login: String, _ password: String, path: String = "/v3/whoami") async throws -> (Int, String, String?) {
        let response = try await client.execute(
            uri: path, method: .get, headers: [.authorization: ServiceFixture.basic(login, password)])
        return (Int(response.status.code), String(buffer: response.body), response.headers[.retryAfter])
    }

    @Test func theFourthTryOfAFailingLoginIsRefusedUnchecked() async throws {
        let fixture = try ServiceFixture()
        try fixture.store.addUser(login: "kolega", password: "hesloKolega", organizationID: try #require(try fixture.store.organization(named: "IPEX")).id)
        var configuration = ServiceConfiguration()
        configuration.loginThrottleSeconds = 600
        let app = buildApplication(configuration: configuration, store: fixture.store)
        try await app.test(.router) { client in
            // Verified before the attack: stays in.
            #expect(try await get(client, "kolega", "hesloKolega").0 == 200)
            for _ in 1...3 { #expect(try await get(client, "novak", "hadam").0 == 401) }
            // The right password now gets 429 too: it is not even checked.
            let (status, body, retryAfter) = try await get(client, "novak", "hesloNovak")
            #expect(status == 429)
            #expect(body.contains("Too many failed logins for 'novak'"))
            // Ten minutes from the third failure, less however long this loaded machine took since.
            #expect((300...600).contains(Int(retryAfter ?? "") ?? 0), "Retry-After \(retryAfter ?? "missing")")
            #expect(try await get(client, "novak", "dalsi").0 == 429)
            // Per login: the other organization's user, a colleague, and a popup by login are unaffected.
            #expect(try await get(client, "cizi", "hesloCizi").0 == 200)
            #expect(try await get(client, "kolega", "hesloKolega").0 == 200)
            #expect(try await get(client, "novak", "hesloNovak", path: "/popup?number=123").0 == 429)
            // Unknown logins are throttled alike: 429 says nothing about which logins exist.
            for _ in 1...3 { #expect(try await get(client, "nikdo", "x").0 == 401) }
            #expect(try await get(client, "nikdo", "x").0 == 429)
        }
    }

    @Test func theWaitDoublesPerFailureUpToThirtyTimes() async throws {
        let fixture = try ServiceFixture()
        var configuration = ServiceConfiguration()
        configuration.loginThrottleSeconds = 0.000_001
        let authenticator = Authenticator(store: fixture.store, configuration: configuration)
        let wrong = ServiceFixture.basic("novak", "spatne")
        // With a microsecond base the waits are over at once: every try is checked and fails.
        for _ in 1...8 {
            guard case .denied = await authenticator.authenticate(authorization: wrong) else {
                Issue.record("expected a checked, denied try")
                return
            }
        }
        // And a success clears the count.
        guard case .allowed = await authenticator.authenticate(authorization: ServiceFixture.basic("novak", "hesloNovak")) else {
            Issue.record("the right password after the waits must be let in")
            return
        }
        configuration.loginThrottleSeconds = 100
        let slow = Authenticator(store: fixture.store, configuration: configuration)
        var waits: [Int] = []
        for _ in 1...3 { _ = await slow.authenticate(authorization: wrong) }
        if case .throttled(_, let wait) = await slow.authenticate(authorization: wrong) { waits.append(wait) }
        #expect(waits.count == 1 && waits[0] > 90 && waits[0] <= 100)
    }
}

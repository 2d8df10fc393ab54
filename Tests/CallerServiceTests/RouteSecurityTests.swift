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

@testable import CallerService

/// Every authenticated route of the table, tried with no credentials, wrong ones and another
/// organization's: no answer carries IPEX's data, and nothing of IPEX changes.
@Suite struct RouteSecurityTests {
    @Test func noRouteAnswersWithDataThatIsNotTheCallers() async throws {
        let fixture = try ServiceFixture()
        let store = fixture.store
        let ipex = try #require(try store.organization(named: "IPEX"))
        _ = try store.importContacts(csv: Fixtures.maximalCSV, organizationID: ipex.id, validator: PhoneNumberValidator())
        _ = try store.setLabels([.customField1: "Tajné"], organizationID: ipex.id)
        let before = try store.allContacts(organizationID: ipex.id)
        let contact = try #require(before.contacts.first)
        let secrets = ["Novák", "Neúplný", "36936", "nase.aplikace.cz", "Tajné", "IPEX"]

        // One user per route for the wrong-password tries, and no wait after failures: the
        // throttle (LoginThrottleTests) would otherwise answer 429 instead of 401.
        for index in APIRoutes.all.indices {
            try store.addUser(login: "ipex\(index)", password: "hesloIpex\(index)", organizationID: ipex.id)
        }
        var configuration = ServiceConfiguration()
        configuration.loginThrottleSeconds = 0
        let app = buildApplication(configuration: configuration, store: store)
        try await app.test(.router) { client in
            var tried = 0
            for (index, route) in APIRoutes.all.enumerated() {
                let callers: [(String, String?)] = [
                    ("none", nil), ("wrong password", ServiceFixture.basic("ipex\(index)", "spatne")),
                    ("unknown login", ServiceFixture.basic("nikdo\(index)", "hesloIpex\(index)")), ("garbage", "Basic !!!"),
                    ("bearer", "Bearer heslo\(index)"), ("another organization", ServiceFixture.basic("cizi", "hesloCizi1")),
                ]
                let path = "/v3/" + route.path
                    .replacingOccurrences(of: "{phoneNumber}", with: "%2B420222333444")
                    .replacingOccurrences(of: "{id}", with: String(contact.id))
                    .replacingOccurrences(of: "{externalId}", with: contact.contact[.externalId])
                let query = route.path == "contacts/changes" ? "?since=0" : route.path == "contacts/lookup" ? "?email=jan@novak.com" : ""
                let body: ByteBuffer? =
                    switch route.method {
                    case .post where route.path == "contacts/batch":
                        ByteBuffer(string: #"{"operations":[{"op":"delete","id":\#(contact.id)}]}"#)
                    case .post, .put, .patch:
                        ByteBuffer(string: #"{"lastName":"Vetřelec","phone1":"+420222333444","externalId":"vetrelec-1"}"#)
                    default: nil
                    }
                for (who, authorization) in callers {
                    var headers: HTTPFields = [.contentType: "application/json"]
                    if let authorization { headers[.authorization] = authorization }
                    let response = try await client.execute(
                        uri: path + query, method: route.method, headers: headers, body: body)
                    tried += 1
                    let text = String(buffer: response.body)
                    if who != "another organization" {
                        #expect(response.status == .unauthorized, "\(route.method) \(path) with \(who): \(response.status)")
                    }
                    // A secret the caller itself sent (an externalId in the path) may be echoed back.
                    for secret in secrets where !(path + query).contains(secret) {
                        #expect(!text.contains(secret), "\(route.method) \(path) with \(who) showed '\(secret)': \(text.prefix(200))")
                    }
                }
            }
            #expect(tried == APIRoutes.all.count * 6)
        }
        let after = try store.allContacts(organizationID: ipex.id)
        #expect(after.contacts == before.contacts, "IPEX's contacts changed")
        #expect(after.version == before.version)
        #expect(try store.organization(id: ipex.id)?.labels == [.customField1: "Tajné"])
    }
}

@testable import CallerService
import Contacts
import LDAPProtocol
import PhoneNumbers
import SQLiteEngine
import StoreContract
import SwiftASN1
import TestSupport
import Testing

/// The LDAP directory through one connection's session (every message as bytes, as the server
/// reads them): binds, the tree, the filters phones send with every form of a number, limits and
/// the access rules.
@Suite struct LDAPDirectoryTests {
    let fixture: ServiceFixture
    let session: LDAPSession
    let state: ServiceState

    init() throws {
        fixture = try ServiceFixture()
        let ipex = try #require(try fixture.store.organization(named: "IPEX"))
        let csv = """
            firstName;lastName;organization;phone1;phone2;email;nameUri
            Jan;Novák;IPEX a.s.;+420 222 333 444;+420 601 234 567;jan@novak.com;https://crm.example/1
            Eva;Dvořáková;;+420 222 333 555;;;
            """
        _ = try fixture.store.importContacts(csv: Array(csv.utf8), organizationID: ipex.id, validator: .init())
        let other = try #require(try fixture.store.organization(named: "Jiná"))
        _ = try fixture.store.importContacts(
            csv: Array("lastName;phone1\nCizí;+420 222 333 444\n".utf8), organizationID: other.id, validator: .init())
        let state = ServiceState(configuration: ServiceConfiguration(), store: SQLiteRecordStore(fixture.store))
        session = LDAPSession(directory: LDAPDirectory(indexes: state.indexes, authenticator: state.authenticator) { nil }, client: "test")
        self.state = state
    }

    /// The responses to `bytes` on `session`.
    func answer(_ session: inout LDAPSession, _ bytes: [UInt8]) async -> [LDAPResponse] {
        await session.answer(bytes[...]).responses
    }

    func bound(_ name: String = "novak", _ password: String = "hesloNovak") async -> LDAPSession {
        var session = self.session
        let responses = await answer(&session, ClientMessage.bind(id: 1, name: name, password: password))
        #expect(responses == [.bind(messageID: 1, .success, message: "")], "bind as \(name)")
        return session
    }

    /// The DNs and telephone numbers of a search's entries, and its result code.
    func search(_ session: inout LDAPSession, base: String = "o=IPEX", sizeLimit: Int = 0, attributes: [String] = [],
                filter: @escaping (inout DER.Serializer) throws -> Void) async -> (dns: [String], entries: [LDAPResponse], done: LDAPResponse?) {
        let responses = await answer(&session, ClientMessage.search(id: 2, base: base, sizeLimit: sizeLimit, attributes: attributes, filter: filter))
        var dns: [String] = []
        for response in responses { if case .searchEntry(_, let dn, _) = response { dns.append(dn) } }
        return (dns, responses.dropLast().map { $0 }, responses.last)
    }

    @Test(arguments: ["+420 222 333 444", "00420222333444", "420222333444", "222333444", "222 333 444", "tel:+420-222-333-444", "+420222333444"])
    func everyPhonesFilterFindsTheContactInEveryForm(number: String) async throws {
        var session = await bound()
        // Yealink, Grandstream and Snom as their manuals write the filter.
        let yealink = ClientMessage.or([ClientMessage.equality("telephoneNumber", number), ClientMessage.equality("mobile", number),
                                        ClientMessage.equality("ipPhone", number)])
        let found = await search(&session, filter: yealink)
        #expect(found.dns == ["uid=1,o=IPEX"], "\(number)")
        #expect(found.done == .searchDone(messageID: 2, .success, message: ""))
        // The number comes back as asked, byte for byte (3CX, Linphone), beside the stored ones.
        guard case .searchEntry(_, _, let attributes) = found.entries.first else { Issue.record("no entry"); return }
        let numbers = attributes.first { $0.0 == "telephoneNumber" }?.1 ?? []
        #expect(numbers.contains(number) && numbers.contains("+420222333444") && numbers.contains("+420601234567"))
        #expect(attributes.first { $0.0 == "mobile" }?.1 == ["+420601234567"])
        #expect(attributes.first { $0.0 == "cn" }?.1 == ["Jan Novák"])
    }

    @Test func superfectasSuffixAndNameSearchesMatch() async throws {
        var session = await bound()
        #expect(await search(&session, filter: ClientMessage.final("telephoneNumber", "222333444")).dns == ["uid=1,o=IPEX"])
        #expect(await search(&session, filter: ClientMessage.equality("sn", "NOVAK")).dns == ["uid=1,o=IPEX"], "case and accents aside")
        #expect(await search(&session, filter: ClientMessage.present("sn")).dns == ["uid=1,o=IPEX", "uid=2,o=IPEX"])
        #expect(await search(&session, filter: ClientMessage.equality("telephoneNumber", "+420 999 999 999")).dns.isEmpty)
    }

    @Test func bindsByLoginDNAndTokenAndRefusesWrongOnes() async throws {
        _ = await bound("uid=novak,o=IPEX")
        _ = await bound("cn=novak,dc=example,dc=com")
        let ipex = try #require(try fixture.store.organization(named: "IPEX"))
        let (_, secret) = try fixture.store.createToken(organizationID: ipex.id, scope: .lookup, label: "Yealink")
        var byToken = await bound("token", secret)
        #expect(await search(&byToken, filter: ClientMessage.equality("telephoneNumber", "222333444")).dns == ["uid=1,o=IPEX"])
        var wrong = session
        #expect(await answer(&wrong, ClientMessage.bind(id: 1, name: "novak", password: "nope"))
            == [.bind(messageID: 1, .invalidCredentials, message: "Wrong login or password.")])
        // Not bound: only the root DSE.
        #expect(await search(&wrong, filter: ClientMessage.present("objectClass")).done
            == .searchDone(messageID: 2, .insufficientAccessRights, message: "Bind with a login or an access token first."))
    }

    @Test func anotherOrganizationIsNeverFound() async throws {
        var session = await bound()
        let number = ClientMessage.equality("telephoneNumber", "+420 222 333 444")
        #expect(await search(&session, base: "o=Jiná", filter: number).done == .searchDone(messageID: 2, .noSuchObject, message: "No such entry in this directory."))
        #expect(await search(&session, base: "", filter: number).dns == ["uid=1,o=IPEX"], "the root: the bound organization only")
        var other = await bound("cizi", "hesloCizi1")
        #expect(await search(&other, base: "o=Jiná", filter: number).dns == ["uid=1,o=Jin\u{E1}"])
    }

    @Test func sizeLimitsAttributesAndOtherOperations() async throws {
        var session = await bound()
        let limited = await search(&session, sizeLimit: 1, filter: ClientMessage.present("objectClass"))
        #expect(limited.dns.count == 1)
        if case .searchDone(_, let code, _) = limited.done { #expect(code == .sizeLimitExceeded) } else { Issue.record("no done") }
        let chosen = await search(&session, attributes: ["CN"], filter: ClientMessage.equality("telephoneNumber", "222333444"))
        guard case .searchEntry(_, _, let attributes) = chosen.entries.first else { Issue.record("no entry"); return }
        #expect(attributes.map(\.0) == ["cn"])
        let none = await search(&session, attributes: ["1.1"], filter: ClientMessage.equality("telephoneNumber", "222333444"))
        guard case .searchEntry(_, _, let noAttributes) = none.entries.first else { Issue.record("no entry"); return }
        #expect(noAttributes.isEmpty)
        // A modify: read-only. A critical control nobody knows: refused. An unbind closes.
        let modify = ClientMessage.message(id: 9) { op in
            try op.appendConstructedNode(identifier: .init(tagWithNumber: 6, tagClass: .application)) { body in ClientMessage.octets("uid=1,o=IPEX", &body) }
        }
        #expect(await answer(&session, modify) == [.refused(messageID: 9, requestTag: 6, .unwillingToPerform, message: "This directory is read-only.")])
        let critical = await answer(&session, ClientMessage.search(id: 10, base: "", controls: [("1.2.3.4", true)], filter: ClientMessage.present("cn")))
        if case .searchDone(_, let code, _) = critical.last { #expect(code == .unavailableCriticalExtension) } else { Issue.record("no done") }
        let unbind = ClientMessage.message(id: 11) { op in
            op.appendPrimitiveNode(identifier: .init(tagWithNumber: 2, tagClass: .application)) { _ in }
        }
        #expect(await session.answer(unbind[...]).keepOpen == false)
        #expect(await session.answer([0x30, 0x03, 0x02, 0x01][...]).keepOpen == false, "a malformed message closes the connection")
    }

    @Test func theRootDSESaysVersionThree() async throws {
        var session = await bound()
        let root = await answer(&session, ClientMessage.search(id: 3, base: "", scope: 0, filter: ClientMessage.present("objectClass")))
        guard case .searchEntry(_, let dn, let attributes) = root.first else { Issue.record("no root"); return }
        #expect(dn.isEmpty)
        #expect(attributes.first { $0.0 == "supportedLDAPVersion" }?.1 == ["3"])
        #expect(attributes.first { $0.0 == "namingContexts" }?.1 == ["o=IPEX"])
    }

    @Test func connectionsAreCountedByAddress() {
        let count = ConnectionCount()
        #expect(count.open("10.0.0.1", perAddress: 2, total: 3) && count.open("10.0.0.1", perAddress: 2, total: 3))
        #expect(!count.open("10.0.0.1", perAddress: 2, total: 3), "a third from one address")
        #expect(count.open("10.0.0.2", perAddress: 2, total: 3))
        #expect(!count.open("10.0.0.3", perAddress: 2, total: 3), "a fourth in all")
        count.close("10.0.0.1")
        #expect(count.open("10.0.0.3", perAddress: 2, total: 3))
    }

    @Test func anonymousBindsReadOnlyTheConfiguredOrganization() async throws {
        var closed = session
        #expect(await answer(&closed, ClientMessage.bind(id: 1, name: "", password: "")) == [.bind(messageID: 1, .success, message: "")])
        #expect(await search(&closed, filter: ClientMessage.equality("telephoneNumber", "222333444")).done
            == .searchDone(messageID: 2, .insufficientAccessRights, message: "Bind with a login or an access token first."))
        let ipex = try #require(try fixture.store.organization(named: "IPEX"))
        var open = LDAPSession(directory: LDAPDirectory(indexes: state.indexes, authenticator: state.authenticator) { ipex }, client: "test")
        _ = await answer(&open, ClientMessage.bind(id: 1, name: "", password: ""))
        #expect(await search(&open, filter: ClientMessage.equality("telephoneNumber", "222333444")).dns == ["uid=1,o=IPEX"])
    }

    @Test func everyFilterKindIsAnswered() async throws {
        var session = await bound()
        func dns(_ filter: @escaping (inout DER.Serializer) throws -> Void) async -> [String] {
            await search(&session, filter: filter).dns
        }
        func node(_ tag: UInt, _ parts: [(inout DER.Serializer) throws -> Void]) -> (inout DER.Serializer) throws -> Void {
            { serializer in
                try serializer.appendConstructedNode(identifier: ClientMessage.context(tag)) { list in for part in parts { try part(&list) } }
            }
        }
        func assertion(_ tag: UInt, _ name: String, _ value: String) -> (inout DER.Serializer) throws -> Void {
            { serializer in
                try serializer.appendConstructedNode(identifier: ClientMessage.context(tag)) { body in
                    ClientMessage.octets(name, &body)
                    ClientMessage.octets(value, &body)
                }
            }
        }
        // and, not, approximate (as equality), >=, <=, initial and any substrings.
        #expect(await dns(node(0, [ClientMessage.present("sn"), node(2, [ClientMessage.equality("sn", "Novák")])])) == ["uid=2,o=IPEX"])
        #expect(await dns(assertion(8, "sn", "dvorakova")) == ["uid=2,o=IPEX"])
        #expect(await dns(assertion(5, "sn", "o")) == [], "no last name sorts after o")
        #expect(await dns(assertion(6, "sn", "e")) == ["uid=2,o=IPEX"], "dvorakova sorts before e")
        let initialAndAny: (inout DER.Serializer) throws -> Void = { serializer in
            try serializer.appendConstructedNode(identifier: ClientMessage.context(4)) { substrings in
                ClientMessage.octets("cn", &substrings)
                try substrings.appendConstructedNode(identifier: .sequence) { pieces in
                    ClientMessage.octets("ja", &pieces, identifier: ClientMessage.context(0))
                    ClientMessage.octets("nov", &pieces, identifier: ClientMessage.context(1))
                }
            }
        }
        #expect(await dns(initialAndAny) == ["uid=1,o=IPEX"])
        // An extensible match matches nothing; a mobile number found as mobile.
        #expect(await dns(node(9, [])) == [])
        #expect(await dns(ClientMessage.equality("mobile", "601 234 567")) == ["uid=1,o=IPEX"])
    }

    @Test func startTLSIsOfferedOnlyWithACertificate() async throws {
        let startTLS = ClientMessage.message(id: 4) { op in
            try op.appendConstructedNode(identifier: .init(tagWithNumber: 23, tagClass: .application)) { body in
                ClientMessage.octets("1.3.6.1.4.1.1466.20037", &body, identifier: ClientMessage.context(0))
            }
        }
        var plain = session
        let refused = await plain.answer(startTLS[...])
        #expect(!refused.startTLS)
        if case .extended(_, let code, _, _) = refused.responses.first { #expect(code == .protocolError) } else { Issue.record("no answer") }
        var offered = LDAPSession(directory: session.directory, client: "test", canStartTLS: true)
        let accepted = await offered.answer(startTLS[...])
        #expect(accepted.startTLS && accepted.responses == [.extended(messageID: 4, .success, message: "", name: "1.3.6.1.4.1.1466.20037")])
        #expect(await offered.answer(startTLS[...]).startTLS == false, "TLS starts once")
    }
}

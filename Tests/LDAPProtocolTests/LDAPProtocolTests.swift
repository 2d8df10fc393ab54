import LDAPProtocol
import SwiftASN1
import TestSupport
import Testing

@Suite struct LDAPProtocolTests {
    @Test func aSimpleBindIsRead() throws {
        let request = try LDAPRequest(ber: ClientMessage.bind(id: 1, name: "uid=novak,o=IPEX", password: "hesloNovak")[...])
        #expect(request == LDAPRequest(messageID: 1, operation: .bind(version: 3, name: "uid=novak,o=IPEX", password: Array("hesloNovak".utf8))))
    }

    @Test func yealinksNumberFilterIsRead() throws {
        let bytes = ClientMessage.search(id: 2, base: "o=IPEX", sizeLimit: 5, attributes: ["cn", "telephoneNumber"],
            filter: ClientMessage.or([ClientMessage.equality("telephoneNumber", "+420 222 333 444"),
                                      ClientMessage.equality("mobile", "+420 222 333 444"),
                                      ClientMessage.equality("ipPhone", "+420 222 333 444")]))
        let request = try LDAPRequest(ber: bytes[...])
        guard case .search(let search) = request.operation else { Issue.record("not a search"); return }
        #expect(search.base == "o=IPEX" && search.scope == .wholeSubtree && search.sizeLimit == 5)
        #expect(search.attributes == ["cn", "telephoneNumber"])
        #expect(search.filter == .or([.equality("telephoneNumber", "+420 222 333 444"), .equality("mobile", "+420 222 333 444"),
                                      .equality("ipPhone", "+420 222 333 444")]))
    }

    @Test func superfectasSuffixFilterAndPresenceAreRead() throws {
        let bytes = ClientMessage.search(id: 3, base: "", filter: ClientMessage.or([ClientMessage.final("telephoneNumber", "222333444"),
                                                                                 ClientMessage.present("sn")]))
        guard case .search(let search) = try LDAPRequest(ber: bytes[...]).operation else { Issue.record("not a search"); return }
        #expect(search.filter == .or([.substrings("telephoneNumber", initial: nil, any: [], final: "222333444"), .present("sn")]))
    }

    @Test func controlsAreReadWithTheirCriticality() throws {
        let bytes = ClientMessage.search(id: 4, base: "", controls: [("1.2.840.113556.1.4.319", false), ("1.2.3.4", true)],
                                         filter: ClientMessage.present("objectClass"))
        let request = try LDAPRequest(ber: bytes[...])
        #expect(request.controls == [.init(type: "1.2.840.113556.1.4.319", critical: false), .init(type: "1.2.3.4", critical: true)])
    }

    @Test func malformedMessagesAreRefusedNotTrapped() {
        let valid = ClientMessage.bind(id: 1, name: "novak", password: "x")
        // Every truncation, and every single byte changed, is either read or refused: never a crash.
        for end in 0..<valid.count { _ = try? LDAPRequest(ber: valid[..<end]) }
        for index in valid.indices {
            for byte: UInt8 in [0x00, 0x7F, 0x80, 0xFF] {
                var changed = valid
                changed[index] = byte
                _ = try? LDAPRequest(ber: changed[...])
            }
        }
        #expect(throws: LDAPProtocolError.self) { try LDAPRequest(ber: [0x30, 0x00][...]) }
        #expect(throws: LDAPProtocolError.self) { try LDAPRequest(ber: [0x04, 0x01, 0x41][...]) }
    }

    @Test func filtersNestOnlySoDeep() {
        var filter: (inout DER.Serializer) throws -> Void = ClientMessage.present("cn")
        for _ in 0..<40 {
            let inner = filter
            filter = ClientMessage.or([inner])
        }
        #expect(throws: LDAPProtocolError.self) { try LDAPRequest(ber: ClientMessage.search(id: 5, base: "", filter: filter)[...]) }
    }

    @Test func framesAreCutByTheirLength() throws {
        let message = ClientMessage.bind(id: 1, name: "novak", password: "hesloNovak")
        #expect(try LDAPResponse.frameLength(of: message, limit: 1_000) == message.count)
        #expect(try LDAPResponse.frameLength(of: message.dropLast(), limit: 1_000) == nil)
        #expect(try LDAPResponse.frameLength(of: message + message, limit: 1_000) == message.count)
        #expect(try LDAPResponse.frameLength(of: [UInt8](), limit: 1_000) == nil)
        // Indefinite, absurd and oversized lengths, and a stream that is not LDAP.
        #expect(throws: LDAPProtocolError.self) { try LDAPResponse.frameLength(of: [0x30, 0x80], limit: 1_000) }
        #expect(throws: LDAPProtocolError.self) { try LDAPResponse.frameLength(of: [0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9], limit: 1_000) }
        #expect(throws: LDAPProtocolError.self) { try LDAPResponse.frameLength(of: [0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF], limit: 1_000) }
        #expect(throws: LDAPProtocolError.self) { try LDAPResponse.frameLength(of: Array("GET / HTTP/1.1\r\n".utf8), limit: 1_000) }
    }

    @Test func responsesAreBER() throws {
        let entry = LDAPResponse.searchEntry(messageID: 2, dn: "uid=1,o=IPEX", attributes: [("cn", ["Jan Novák"]), ("telephoneNumber", ["+420222333444", "222 333 444"])])
        let node = try BER.parse(entry.ber)
        #expect(node.identifier == .sequence)
        guard case .constructed(let parts) = node.content else { Issue.record("not constructed"); return }
        let elements = Array(parts)
        #expect(try Int32(berEncoded: elements[0]) == 2)
        #expect(elements[1].identifier == ASN1Identifier(tagWithNumber: 4, tagClass: .application))
        let done = LDAPResponse.searchDone(messageID: 2, .sizeLimitExceeded, message: "more")
        #expect(try LDAPResponse.frameLength(of: done.ber, limit: 1_000) == done.ber.count)
        let refused = LDAPResponse.refused(messageID: 7, requestTag: 6, .unwillingToPerform, message: "read-only")
        guard case .constructed(let refusedParts) = try BER.parse(refused.ber).content else { Issue.record("not constructed"); return }
        #expect(Array(refusedParts)[1].identifier == ASN1Identifier(tagWithNumber: 7, tagClass: .application), "a modify's response is a ModifyResponse")
    }
}

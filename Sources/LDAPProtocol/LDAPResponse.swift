import SwiftASN1

/// An LDAP result code (RFC 4511 §4.1.9), those this directory answers with.
public enum LDAPResultCode: Int, Sendable {
    case success = 0
    case operationsError = 1
    case protocolError = 2
    case timeLimitExceeded = 3
    case sizeLimitExceeded = 4
    case authMethodNotSupported = 7
    case unavailableCriticalExtension = 12
    case noSuchObject = 32
    case invalidCredentials = 49
    case insufficientAccessRights = 50
    case busy = 51
    case unavailable = 52
    case unwillingToPerform = 53
}

/// One LDAPv3 response, written as a whole BER (DER) message.
public enum LDAPResponse: Sendable, Equatable {
    case bind(messageID: Int32, LDAPResultCode, message: String)
    case searchEntry(messageID: Int32, dn: String, attributes: [(String, [String])])
    case searchDone(messageID: Int32, LDAPResultCode, message: String)
    case extended(messageID: Int32, LDAPResultCode, message: String, name: String?)
    /// The response to an operation this directory does not perform (`tag` is the request's
    /// application tag; its response's is one more).
    case refused(messageID: Int32, requestTag: UInt, LDAPResultCode, message: String)

    /// The unsolicited notice that the server closes the connection (RFC 4511 §4.4.1).
    public static func noticeOfDisconnection(_ code: LDAPResultCode, message: String) -> LDAPResponse {
        .extended(messageID: 0, code, message: message, name: "1.3.6.1.4.1.1466.20036")
    }

    public static func == (lhs: LDAPResponse, rhs: LDAPResponse) -> Bool { lhs.ber == rhs.ber }

    /// The message's bytes.
    public var ber: [UInt8] {
        var serializer = DER.Serializer()
        // Every value written is a string, an integer or a nested node: nothing here can throw.
        try! serializer.appendConstructedNode(identifier: .sequence) { message in
            switch self {
            case .bind(let id, let code, let text):
                try message.serialize(id)
                try Self.result(into: &message, tag: 1, code, text)
            case .searchEntry(let id, let dn, let attributes):
                try message.serialize(id)
                try message.appendConstructedNode(identifier: Self.application(4)) { entry in
                    Self.octets(dn, into: &entry)
                    try entry.appendConstructedNode(identifier: .sequence) { list in
                        for (name, values) in attributes {
                            try list.appendConstructedNode(identifier: .sequence) { attribute in
                                Self.octets(name, into: &attribute)
                                try attribute.appendConstructedNode(identifier: .set) { set in
                                    for value in values { Self.octets(value, into: &set) }
                                }
                            }
                        }
                    }
                }
            case .searchDone(let id, let code, let text):
                try message.serialize(id)
                try Self.result(into: &message, tag: 5, code, text)
            case .extended(let id, let code, let text, let name):
                try message.serialize(id)
                try Self.result(into: &message, tag: 24, code, text) { body in
                    if let name {
                        body.appendPrimitiveNode(identifier: ASN1Identifier(tagWithNumber: 10, tagClass: .contextSpecific)) {
                            $0.append(contentsOf: name.utf8)
                        }
                    }
                }
            case .refused(let id, let tag, let code, let text):
                try message.serialize(id)
                try Self.result(into: &message, tag: tag + 1, code, text)
            }
        }
        return serializer.serializedBytes
    }

    private static func application(_ tag: UInt) -> ASN1Identifier {
        ASN1Identifier(tagWithNumber: tag, tagClass: .application)
    }

    private static func octets(_ text: String, into serializer: inout DER.Serializer) {
        serializer.appendPrimitiveNode(identifier: .octetString) { $0.append(contentsOf: text.utf8) }
    }

    /// An LDAPResult (code, matchedDN, diagnosticMessage) under the response's application tag.
    private static func result(
        into message: inout DER.Serializer, tag: UInt, _ code: LDAPResultCode, _ text: String,
        extra: (inout DER.Serializer) -> Void = { _ in }
    ) throws {
        try message.appendConstructedNode(identifier: application(tag)) { body in
            body.appendPrimitiveNode(identifier: ASN1Identifier(tagWithNumber: 10, tagClass: .universal)) { bytes in
                // ENUMERATED, as an INTEGER's minimal two's-complement bytes (codes are < 128).
                bytes.append(UInt8(code.rawValue))
            }
            octets("", into: &body)
            octets(text, into: &body)
            extra(&body)
        }
    }
}

extension LDAPResponse {
    /// The length of the first whole BER element in `bytes` (tag, length, content), `nil` while
    /// more bytes are needed, or a `LDAPProtocolError` for a length this server refuses
    /// (indefinite, longer than `limit`, or a tag it cannot read): what a stream decoder needs to
    /// cut messages without parsing them.
    public static func frameLength(of bytes: some Collection<UInt8>, limit: Int) throws -> Int? {
        var index = bytes.startIndex
        guard index != bytes.endIndex else { return nil }
        guard bytes[index] == 0x30 else { throw LDAPProtocolError("An LDAPMessage starts with a SEQUENCE tag (0x30).") }
        index = bytes.index(after: index)
        guard index != bytes.endIndex else { return nil }
        let first = bytes[index]
        index = bytes.index(after: index)
        var length = 0
        var header = 2
        if first < 0x80 {
            length = Int(first)
        } else {
            let count = Int(first & 0x7F)
            guard count > 0 else { throw LDAPProtocolError("Indefinite lengths are not allowed in LDAP.") }
            guard count <= 4 else { throw LDAPProtocolError("The message's length field is absurd.") }
            for _ in 0..<count {
                guard index != bytes.endIndex else { return nil }
                length = length << 8 | Int(bytes[index])
                index = bytes.index(after: index)
            }
            header += count
        }
        guard length <= limit else { throw LDAPProtocolError("A message of \(length) bytes is over the limit of \(limit).") }
        let total = header + length
        return bytes.count >= total ? total : nil
    }
}

public import SwiftASN1

/// One LDAPv3 request as a client sends it (RFC 4511 §4), read from one whole BER message.
public struct LDAPRequest: Sendable, Equatable {
    public let messageID: Int32
    public let operation: Operation
    public let controls: [Control]

    public enum Operation: Sendable, Equatable {
        case bind(version: Int, name: String, password: [UInt8]?)
        case unbind
        case search(SearchRequest)
        case abandon(messageID: Int32)
        case extended(name: String)
        /// Any other operation (modify, add, delete, compare…), by its application tag: a
        /// read-only directory answers it `unwillingToPerform` with the response tag that matches.
        case other(tag: UInt)
    }

    public struct Control: Sendable, Equatable {
        public let type: String
        public let critical: Bool

        public init(type: String, critical: Bool) {
            self.type = type
            self.critical = critical
        }
    }

    /// `messageID` and `operation` as read; the controls in the order sent.
    public init(messageID: Int32, operation: Operation, controls: [Control] = []) {
        self.messageID = messageID
        self.operation = operation
        self.controls = controls
    }
}

/// A search request (RFC 4511 §4.5.1).
public struct SearchRequest: Sendable, Equatable {
    public enum Scope: Int, Sendable {
        case baseObject = 0
        case singleLevel = 1
        case wholeSubtree = 2
    }

    public let base: String
    public let scope: Scope
    public let sizeLimit: Int
    public let timeLimit: Int
    public let typesOnly: Bool
    public let filter: LDAPFilter
    /// As sent: empty, `*`, `1.1` or attribute names.
    public let attributes: [String]

    public init(base: String, scope: Scope, sizeLimit: Int = 0, timeLimit: Int = 0, typesOnly: Bool = false, filter: LDAPFilter, attributes: [String] = []) {
        (self.base, self.scope, self.sizeLimit, self.timeLimit, self.typesOnly, self.filter, self.attributes) =
            (base, scope, sizeLimit, timeLimit, typesOnly, filter, attributes)
    }
}

/// A search filter (RFC 4511 §4.5.1.7). Attribute names keep their case as sent; values are the
/// bytes as sent, read as UTF-8.
public indirect enum LDAPFilter: Sendable, Equatable {
    case and([LDAPFilter])
    case or([LDAPFilter])
    case not(LDAPFilter)
    case equality(String, String)
    case substrings(String, initial: String?, any: [String], final: String?)
    case greaterOrEqual(String, String)
    case lessOrEqual(String, String)
    case present(String)
    case approximate(String, String)
    /// An extensible match: undefined for this directory (it matches nothing).
    case extensible
}

/// Why a message could not be read; the connection that sent it is closed.
public struct LDAPProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

extension LDAPRequest {
    /// Filters nest at most this deep (a phone's filter nests two or three levels).
    public static let maximumFilterDepth = 32

    /// Reads one whole BER-encoded `LDAPMessage`.
    public init(ber bytes: ArraySlice<UInt8>) throws {
        let root: ASN1Node
        do {
            root = try BER.parse(bytes)
        } catch {
            throw LDAPProtocolError("The message is not valid BER: \(error).")
        }
        guard root.identifier == .sequence, case .constructed(let nodes) = root.content else {
            throw LDAPProtocolError("An LDAPMessage is a SEQUENCE.")
        }
        var iterator = nodes.makeIterator()
        guard let idNode = iterator.next(), let id = try? Int32(berEncoded: idNode), id >= 0 else {
            throw LDAPProtocolError("The message has no messageID (an INTEGER from 0 to 2147483647).")
        }
        guard let opNode = iterator.next() else { throw LDAPProtocolError("The message has no operation.") }
        var controls: [Control] = []
        if let controlsNode = iterator.next() {
            guard controlsNode.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific),
                case .constructed(let list) = controlsNode.content
            else { throw LDAPProtocolError("Controls are [0] SEQUENCE OF Control.") }
            for control in list { controls.append(try Self.control(control)) }
        }
        guard iterator.next() == nil else { throw LDAPProtocolError("The message has elements after its controls.") }
        self.init(messageID: id, operation: try Self.operation(opNode), controls: controls)
    }

    private static func control(_ node: ASN1Node) throws -> Control {
        guard node.identifier == .sequence, case .constructed(let parts) = node.content else {
            throw LDAPProtocolError("A Control is a SEQUENCE.")
        }
        var iterator = parts.makeIterator()
        guard let typeNode = iterator.next() else { throw LDAPProtocolError("A Control has no controlType.") }
        let type = try text(typeNode)
        var critical = false
        if let next = iterator.next(), next.identifier == .boolean {
            critical = try Bool(berEncoded: next)
        }
        return Control(type: type, critical: critical)
    }

    private static func operation(_ node: ASN1Node) throws -> Operation {
        guard node.identifier.tagClass == .application else {
            throw LDAPProtocolError("The operation is not an APPLICATION-tagged protocolOp.")
        }
        switch (node.identifier.tagNumber, node.content) {
        case (0, .constructed(let parts)):
            var iterator = parts.makeIterator()
            guard let versionNode = iterator.next(), let version = try? Int(berEncoded: versionNode),
                let nameNode = iterator.next(), let authentication = iterator.next()
            else { throw LDAPProtocolError("A BindRequest is version, name and authentication.") }
            let name = try text(nameNode)
            // simple [0] OCTET STRING; SASL [3] is not offered (the password stays nil: refused).
            if authentication.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                return .bind(version: version, name: name, password: Array(try octets(authentication)))
            }
            return .bind(version: version, name: name, password: nil)
        case (2, .primitive):
            return .unbind
        case (3, .constructed(let parts)):
            return .search(try search(parts))
        case (16, .primitive(let bytes)):
            guard let id = try? Int32(berIntegerBytes: bytes) else { throw LDAPProtocolError("An AbandonRequest is a messageID.") }
            return .abandon(messageID: id)
        case (23, .constructed(let parts)):
            guard let nameNode = parts.first(where: { _ in true }),
                nameNode.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
            else { throw LDAPProtocolError("An ExtendedRequest names its requestName [0].") }
            return .extended(name: try text(nameNode))
        case (let tag, _):
            return .other(tag: tag)
        }
    }

    private static func search(_ parts: ASN1NodeCollection) throws -> SearchRequest {
        var iterator = parts.makeIterator()
        guard let baseNode = iterator.next(), let scopeNode = iterator.next(), iterator.next() != nil,
            let sizeNode = iterator.next(), let timeNode = iterator.next(), let typesNode = iterator.next(),
            let filterNode = iterator.next(), let attributesNode = iterator.next()
        else { throw LDAPProtocolError("A SearchRequest has eight elements.") }
        guard case .primitive(let scopeBytes) = scopeNode.content, let scopeValue = try? Int(berIntegerBytes: scopeBytes),
            let scope = SearchRequest.Scope(rawValue: scopeValue)
        else { throw LDAPProtocolError("A search scope is base (0), one level (1) or subtree (2).") }
        guard let sizeLimit = try? Int(berEncoded: sizeNode), sizeLimit >= 0, let timeLimit = try? Int(berEncoded: timeNode), timeLimit >= 0
        else { throw LDAPProtocolError("sizeLimit and timeLimit are INTEGERs from 0.") }
        guard let typesOnly = try? Bool(berEncoded: typesNode) else { throw LDAPProtocolError("typesOnly is a BOOLEAN.") }
        guard attributesNode.identifier == .sequence, case .constructed(let attributeNodes) = attributesNode.content else {
            throw LDAPProtocolError("The attribute selection is a SEQUENCE OF OCTET STRING.")
        }
        return SearchRequest(
            base: try text(baseNode), scope: scope, sizeLimit: sizeLimit, timeLimit: timeLimit, typesOnly: typesOnly,
            filter: try filter(filterNode, depth: 0), attributes: try attributeNodes.map(text))
    }

    static func filter(_ node: ASN1Node, depth: Int) throws -> LDAPFilter {
        guard depth < maximumFilterDepth else { throw LDAPProtocolError("The filter nests deeper than \(maximumFilterDepth) levels.") }
        guard node.identifier.tagClass == .contextSpecific else { throw LDAPProtocolError("A filter is a context-tagged CHOICE.") }
        switch (node.identifier.tagNumber, node.content) {
        case (0, .constructed(let parts)):
            return .and(try parts.map { try filter($0, depth: depth + 1) })
        case (1, .constructed(let parts)):
            return .or(try parts.map { try filter($0, depth: depth + 1) })
        case (2, .constructed(let parts)):
            guard let inner = parts.first(where: { _ in true }) else { throw LDAPProtocolError("A NOT filter holds one filter.") }
            return .not(try filter(inner, depth: depth + 1))
        case (3, .constructed(let parts)):
            let (name, value) = try assertion(parts)
            return .equality(name, value)
        case (4, .constructed(let parts)):
            var iterator = parts.makeIterator()
            guard let typeNode = iterator.next(), let listNode = iterator.next(), case .constructed(let pieces) = listNode.content else {
                throw LDAPProtocolError("A substrings filter is a type and its substrings.")
            }
            var initial: String?
            var any: [String] = []
            var final: String?
            for piece in pieces {
                guard piece.identifier.tagClass == .contextSpecific else { throw LDAPProtocolError("A substring is initial, any or final.") }
                let value = String(decoding: try octets(piece), as: UTF8.self)
                switch piece.identifier.tagNumber {
                case 0: initial = value
                case 1: any.append(value)
                case 2: final = value
                default: throw LDAPProtocolError("A substring is initial [0], any [1] or final [2].")
                }
            }
            return .substrings(try text(typeNode), initial: initial, any: any, final: final)
        case (5, .constructed(let parts)):
            let (name, value) = try assertion(parts)
            return .greaterOrEqual(name, value)
        case (6, .constructed(let parts)):
            let (name, value) = try assertion(parts)
            return .lessOrEqual(name, value)
        case (7, .primitive(let bytes)):
            return .present(String(decoding: bytes, as: UTF8.self))
        case (8, .constructed(let parts)):
            let (name, value) = try assertion(parts)
            return .approximate(name, value)
        case (9, .constructed):
            return .extensible
        default:
            throw LDAPProtocolError("Unknown filter choice [\(node.identifier.tagNumber)].")
        }
    }

    private static func assertion(_ parts: ASN1NodeCollection) throws -> (String, String) {
        var iterator = parts.makeIterator()
        guard let nameNode = iterator.next(), let valueNode = iterator.next(), iterator.next() == nil else {
            throw LDAPProtocolError("An attribute value assertion is a description and a value.")
        }
        return (try text(nameNode), String(decoding: try octets(valueNode), as: UTF8.self))
    }

    /// The bytes of an OCTET STRING, whatever its tag (BER allows the constructed form).
    private static func octets(_ node: ASN1Node) throws -> ArraySlice<UInt8> {
        do {
            return try ASN1OctetString(berEncoded: node, withIdentifier: node.identifier).bytes
        } catch {
            throw LDAPProtocolError("Expected an OCTET STRING.")
        }
    }

    private static func text(_ node: ASN1Node) throws -> String {
        String(decoding: try octets(node), as: UTF8.self)
    }
}

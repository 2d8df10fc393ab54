public import SwiftASN1

/// LDAP messages as a client writes them, built here with swift-asn1 the way ldapsearch and the
/// phones encode them.
public enum ClientMessage {
    public static func context(_ tag: UInt, constructed: Bool = false) -> ASN1Identifier {
        ASN1Identifier(tagWithNumber: tag, tagClass: .contextSpecific)
    }

    public static func message(id: Int32, controls: [(String, Bool)] = [], _ operation: (inout DER.Serializer) throws -> Void) -> [UInt8] {
        var serializer = DER.Serializer()
        try! serializer.appendConstructedNode(identifier: .sequence) { message in
            try message.serialize(id)
            try operation(&message)
            if !controls.isEmpty {
                try message.appendConstructedNode(identifier: context(0)) { list in
                    for (type, critical) in controls {
                        try list.appendConstructedNode(identifier: .sequence) { control in
                            octets(type, &control)
                            if critical { try control.serialize(true) }
                        }
                    }
                }
            }
        }
        return serializer.serializedBytes
    }

    public static func octets(_ text: String, _ serializer: inout DER.Serializer, identifier: ASN1Identifier = .octetString) {
        serializer.appendPrimitiveNode(identifier: identifier) { $0.append(contentsOf: text.utf8) }
    }

    public static func bind(id: Int32, name: String, password: String, version: Int = 3) -> [UInt8] {
        message(id: id) { op in
            try op.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .application)) { bind in
                try bind.serialize(version)
                octets(name, &bind)
                octets(password, &bind, identifier: context(0))
            }
        }
    }

    public static func search(id: Int32, base: String, scope: Int = 2, sizeLimit: Int = 0, attributes: [String] = [], controls: [(String, Bool)] = [],
                       filter: (inout DER.Serializer) throws -> Void) -> [UInt8] {
        message(id: id, controls: controls) { op in
            try op.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 3, tagClass: .application)) { search in
                octets(base, &search)
                search.appendPrimitiveNode(identifier: ASN1Identifier(tagWithNumber: 10, tagClass: .universal)) { $0.append(UInt8(scope)) }
                search.appendPrimitiveNode(identifier: ASN1Identifier(tagWithNumber: 10, tagClass: .universal)) { $0.append(0) }
                try search.serialize(sizeLimit)
                try search.serialize(0)
                try search.serialize(false)
                try filter(&search)
                try search.appendConstructedNode(identifier: .sequence) { list in
                    for attribute in attributes { octets(attribute, &list) }
                }
            }
        }
    }

    /// `(name=value)`.
    public static func equality(_ name: String, _ value: String) -> (inout DER.Serializer) throws -> Void {
        { serializer in
            try serializer.appendConstructedNode(identifier: context(3)) { assertion in
                octets(name, &assertion)
                octets(value, &assertion)
            }
        }
    }

    /// `(|…)`.
    public static func or(_ parts: [(inout DER.Serializer) throws -> Void]) -> (inout DER.Serializer) throws -> Void {
        { serializer in
            try serializer.appendConstructedNode(identifier: context(1)) { list in
                for part in parts { try part(&list) }
            }
        }
    }

    /// `(name=*final)`.
    public static func final(_ name: String, _ value: String) -> (inout DER.Serializer) throws -> Void {
        { serializer in
            try serializer.appendConstructedNode(identifier: context(4)) { substrings in
                octets(name, &substrings)
                try substrings.appendConstructedNode(identifier: .sequence) { pieces in
                    octets(value, &pieces, identifier: context(2))
                }
            }
        }
    }

    /// `(name=*)`.
    public static func present(_ name: String) -> (inout DER.Serializer) throws -> Void {
        { serializer in octets(name, &serializer, identifier: context(7)) }
    }
}

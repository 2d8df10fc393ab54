import PhoneNumbers

/// Email keys: ASCII-lower-cased (or Unicode-lower-cased when not ASCII) bytes and their FNV-1a hash.
enum EmailKey {
    static func normalized(_ email: String) -> [UInt8] {
        var email = email
        return email.withUTF8 { normalized(UnsafeRawBufferPointer($0)) }
    }

    static func normalized(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            return bytes.map { ($0 >= 65 && $0 <= 90) ? $0 | 0x20 : $0 }
        }
        return Array(String(decoding: bytes, as: UTF8.self).lowercased().utf8)
    }

    /// The hash of `normalized(bytes)` without building it, for ASCII addresses (nearly all).
    static func hash(of bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            guard byte < 0x80 else { return self.hash(normalized(bytes)) }
            hash ^= UInt64((byte >= 65 && byte <= 90) ? byte | 0x20 : byte)
            hash &*= 0x100_0000_01B3
        }
        return hash
    }

    static func hash(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01B3
        }
        return hash
    }
}

extension CallerNumber {
    /// The suffix key of E.164 digits given as an integer; `nil` for 0 or too few digits.
    @inline(__always)
    static func suffixKey(ofRaw raw: UInt64, count: Int) -> UInt64? {
        guard let number = PhoneNumber(rawValue: raw) else { return nil }
        return suffixKey(of: number, count: count)
    }
}

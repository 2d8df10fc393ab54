import CLibCrypto
import Foundation

/// The hashing and signing every part of the service uses, in one place: SHA-256 (token hashes,
/// the pages' CSP hashes), HMAC-SHA256 (popup links, session cookies, CSRF tokens, derived keys),
/// URL-safe base64, and a comparison whose time does not depend on where two values differ.
///
/// Performance: a popup link is signed on every lookup answer. HMAC runs on OpenSSL's low-level
/// SHA-256 (see `CLibCrypto`), base64url is written out without Foundation.
package enum Crypto {
    /// SHA-256 of `bytes` (32 bytes).
    package static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        clc_sha256(bytes, bytes.count, &digest)
        return digest
    }

    /// HMAC-SHA256 (RFC 2104) of `message` under `key` (32 bytes).
    package static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 32)
        _ = key.withUnsafeBytes { clc_hmac_sha256($0.baseAddress, Int32($0.count), message, message.count, &mac) }
        return mac
    }

    /// URL-safe base64 without padding (RFC 4648 §5).
    package static func base64url(_ bytes: [UInt8]) -> String {
        let alphabet = base64URLAlphabet
        var output = [UInt8]()
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
            output.append(alphabet[Int(value & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let value = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            if rest == 2 { output.append(alphabet[Int(value >> 6 & 63)]) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The bytes of URL-safe base64 (padding optional), or `nil`.
    package static func unbase64url(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { Array($0) }
    }

    /// `'sha256-…'` of a page's inline style or script, for its Content-Security-Policy.
    package static func contentSecuritySource(_ text: String) -> String {
        "'sha256-\(Data(sha256(Array(text.utf8))).base64EncodedString())'"
    }

    /// Whether `a` and `b` are equal, in a time that depends on their lengths only.
    package static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

import CCrypt

/// Password hashing with the system's libxcrypt: yescrypt (`$y$`), the slow, salted, memory-hard
/// scheme Debian uses for /etc/shadow — stronger than bcrypt and free to build.
public enum PasswordHash {
    /// A new salted hash of `password`; `nil` only if the system has no random source.
    public static func make(_ password: String) -> String? {
        var setting = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        guard crypt_gensalt_rn("$y$", 0, nil, 0, &setting, Int32(setting.count)) != nil else { return nil }
        return hash(password, setting: setting)
    }

    /// Whether `password` matches `stored`, compared in constant time.
    public static func verify(_ password: String, against stored: String) -> Bool {
        guard let computed = stored.withCString({ hash(password, setting: $0) }) else { return false }
        return Crypto.constantTimeEqual(Array(computed.utf8), Array(stored.utf8))
    }

    private static func hash(_ password: String, setting: UnsafePointer<CChar>) -> String? {
        let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
        defer {
            // Wipe the work area: it held the password.
            UnsafeMutableRawPointer(data).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<crypt_data>.size)
            data.deallocate()
        }
        UnsafeMutableRawPointer(data).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<crypt_data>.size)
        guard let result = crypt_rn(password, setting, data, Int32(MemoryLayout<crypt_data>.size)) else { return nil }
        let text = String(cString: result)
        // libxcrypt marks failure with a hash starting with '*'.
        return text.hasPrefix("*") ? nil : text
    }

    private static func hash(_ password: String, setting: [CChar]) -> String? {
        setting.withUnsafeBufferPointer { hash(password, setting: $0.baseAddress!) }
    }

}

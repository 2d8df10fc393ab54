import ContactStore
import Contacts
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import LookupIndex
import NIOCore
import PhoneNumbers

/// Runs blocking work (a slow hash, SQLite, a whole import) on a dispatch thread, so it never
/// holds a thread of Swift's cooperative pool.
func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}

/// `offCooperativePool` for work that throws.
func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await offCooperativePool { Result { try work() } }.get()
}

extension Duration {
    /// The duration in whole nanoseconds.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// The duration in seconds, for logs.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

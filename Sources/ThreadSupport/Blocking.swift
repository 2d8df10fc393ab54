import Dispatch

/// Runs async `work` and waits for it on the calling thread: for the index followers' own
/// threads, whose `ChangeSource` is synchronous. Never call it on Swift's cooperative pool.
package func waitBlocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = BlockingOutcome<T>()
    Task {
        do {
            outcome.result = .success(try await work())
        } catch {
            outcome.result = .failure(error)
        }
        outcome.semaphore.signal()
    }
    outcome.semaphore.wait()
    return try outcome.result!.get()
}

private final class BlockingOutcome<T: Sendable>: @unchecked Sendable {
    // @unchecked: `result` is written once before `semaphore` is signalled and read after it.
    let semaphore = DispatchSemaphore(value: 0)
    var result: Result<T, any Error>?
}

import Dispatch
import Foundation

/// A few threads of their own that run blocking work — SQLite calls, index builds — handed to them
/// in order, so that no task of Swift's cooperative pool (two threads on a two-core machine) ever
/// waits for a disk, a lock or a long transaction.
///
/// A job queued behind a long one (a REST write behind a 20 MB import) is a closure in a queue,
/// not a parked thread: however many requests wait, the process keeps `count` threads here. The
/// threads start with the first job and end when the value is released.
public final class WorkerThreads: @unchecked Sendable {
    // @unchecked: `jobs`, `started` and `closed` are only touched under `condition`.
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var jobs: [() -> Void] = []
        var head = 0
        var closed = false

        /// The next job, or `nil` once closed and drained.
        func next() -> (() -> Void)? {
            condition.lock()
            defer { condition.unlock() }
            while head == jobs.count {
                if closed { return nil }
                condition.wait()
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            return job
        }
    }

    private let queue = Queue()
    private let name: String
    private let count: Int
    private let niceness: Int32
    private var started = false

    /// `count` threads named `name` (as `top` and debuggers show them). A `niceness` above 0 makes
    /// them yield the cores to the rest of the process when both are busy (Linux: the threads' nice
    /// value), for background work such as imports and index builds, so lookups keep their
    /// latency while a large upload is written and indexed.
    public init(name: String, count: Int, niceness: Int32 = 0) {
        precondition(count > 0)
        self.name = name
        self.count = count
        self.niceness = niceness
    }

    deinit {
        queue.condition.lock()
        queue.closed = true
        queue.condition.broadcast()
        queue.condition.unlock()
    }

    /// Runs `work` on one of the threads and returns its result; the calling task suspends
    /// meanwhile without holding its thread.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try work() }) }
        }
    }

    /// `run` for work that does not throw.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            submit { continuation.resume(returning: work()) }
        }
    }

    /// Queues `job`; it runs on one of the threads after the jobs queued before it have started.
    public func submit(_ job: @escaping () -> Void) {
        queue.condition.lock()
        queue.jobs.append(job)
        let start = !started
        started = true
        queue.condition.signal()
        queue.condition.unlock()
        guard start else { return }
        for index in 0..<count {
            // The thread holds the queue, not this value: releasing it closes the queue and lets
            // the threads end.
            let queue = self.queue
            let niceness = self.niceness
            let thread = Thread {
                #if os(Linux)
                // `who` 0 is the calling thread alone on Linux; threads it starts (an import's
                // reader) inherit its value.
                if niceness != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
                #endif
                while let job = queue.next() { job() }
            }
            thread.name = count == 1 ? name : "\(name) \(index + 1)"
            thread.stackSize = 4 << 20
            thread.start()
        }
    }
}

/// Runs blocking work (a slow hash, SQLite, a whole import) on a dispatch thread, so it never
/// holds a thread of Swift's cooperative pool.
package func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}

/// `offCooperativePool` for work that throws.
package func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await offCooperativePool { Result { try work() } }.get()
}


import Dispatch
import Foundation

/// Runs postgres-nio's async calls for the store's synchronous protocols.
///
/// The store protocols are synchronous (as GRDB is), and their callers include the cooperative pool's threads
/// (Hummingbird handlers). Waiting there on a task that itself needs the cooperative pool could deadlock a
/// two-core machine, so the bridged task prefers an executor of its own on Dispatch threads: its continuations,
/// and the connection pool's actor code it calls, never wait for a cooperative thread.
final class BlockingBridge: TaskExecutor, @unchecked Sendable {
    // A concurrent queue: Dispatch adds threads when jobs block, and nothing here is ordered.
    private let queue = DispatchQueue(label: "factorlab.postgres.bridge", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    /// Starts `body` as a task on this executor without waiting (the client's `run()`).
    func start(_ body: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        Task(executorPreference: self) { await body() }
    }

    /// Runs `body` and blocks the calling thread until it ends.
    func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = OutcomeBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: self) {
            do { outcome.set(.success(try await body())) } catch { outcome.set(.failure(error)) }
            done.signal()
        }
        done.wait()
        return try outcome.get()
    }
}

/// The result of a bridged call, handed from the task's thread to the waiting one.
private final class OutcomeBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, any Error>?

    func set(_ value: Result<T, any Error>) { lock.lock(); result = value; lock.unlock() }

    func get() throws -> T {
        lock.lock(); defer { lock.unlock() }
        guard let result else { throw StoreError.database("a PostgreSQL call ended without a result") }
        return try result.get()
    }
}

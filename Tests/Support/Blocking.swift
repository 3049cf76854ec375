import Dispatch

/// Runs a task's jobs on Dispatch's threads instead of the cooperative pool.
final class DispatchTaskExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = DispatchTaskExecutor()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        DispatchQueue.global().async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Runs blocking or CPU-heavy work (a child process, a synchronous worker loop, a conformance computation) off the
/// few cooperative threads, so that a live server under test in the same process can still answer. It stays in the
/// calling task, so `#expect` and `Issue.record` inside it are attributed to the running test.
public func blocking<T: Sendable>(_ body: @Sendable () throws -> T) async throws -> T {
    try await withTaskExecutorPreference(DispatchTaskExecutor.shared) { try body() }
}

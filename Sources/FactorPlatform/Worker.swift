import Dispatch
import FactorExpr
import FactorStore
import FactorPython
import Foundation
import Logging

/// Runs queued tasks: lease → load → evaluate → store, renewing the lease while it works; builds a job's summary
/// when its last task ends. Several worker processes (and threads) can share one database.
public final class Worker: @unchecked Sendable {
    public enum Mode: Sendable { case forever, once, untilEmpty }

    public struct Options: Sendable {
        public var name: String
        public var concurrency: Int
        public var mode: Mode
        /// How long a lease lasts without a heartbeat (renewed every third of it).
        public var leaseSeconds: Double
        /// How long an idle worker sleeps before polling again.
        public var pollSeconds: Double
        /// Base of the exponential backoff between attempts of a failing task.
        public var backoffSeconds: Double

        public init(name: String, concurrency: Int = 1, mode: Mode = .forever, leaseSeconds: Double = 60,
                    pollSeconds: Double = 1, backoffSeconds: Double = 2) {
            self.name = name
            self.concurrency = max(1, concurrency)
            self.mode = mode
            self.leaseSeconds = leaseSeconds
            self.pollSeconds = pollSeconds
            self.backoffSeconds = backoffSeconds
        }
    }

    /// What one task run ended as.
    public struct Outcome: Sendable, Codable {
        public var taskId: String
        public var jobId: String
        public var status: String
        public var attempt: Int
        public var results: Int
        public var seconds: Double
        public var error: String?
        public var retryable: Bool?
        /// Seconds spent loading and evaluating (the rest of `seconds` is queue and storage work).
        public var evaluateSeconds: Double = 0
        /// Seconds spent storing the results and their per-date series (the task's completing transaction).
        public var storeSeconds: Double = 0
        /// Factors of the task that got an error result instead of figures (the rest of the batch was evaluated).
        public var failedFactors: [String] = []
        /// The task had already succeeded before this call: nothing was evaluated (`run-task` after a retry or Clear).
        public var alreadyDone = false
        /// The lease owner that ran it (a worker slot: `name#k` with `--concurrency`).
        public var worker = ""

        public init(taskId: String, jobId: String, status: String, attempt: Int, results: Int, seconds: Double,
                    error: String?, retryable: Bool?) {
            self.taskId = taskId
            self.jobId = jobId
            self.status = status
            self.attempt = attempt
            self.results = results
            self.seconds = seconds
            self.error = error
            self.retryable = retryable
        }
    }

    public let store: any PlatformStore
    public let options: Options
    private let runner: TaskRunner
    private let logger: Logger
    private let onOutcome: @Sendable (Outcome) -> Void
    private let lock = NSLock()
    /// Held while a lease is taken and recorded in `held`, so `releaseAll` never misses a lease committed a moment
    /// before SIGTERM (it waits for that one and gives it back too).
    private let leasing = NSLock()
    private var held: [String: String] = [:]  // task id → lease owner
    private var stopping = false
    private var outcomes: [Outcome] = []

    /// `logger` receives the worker's operational log (swift-log); `onOutcome` is called as each task ends (for
    /// progress displays).
    /// `python` runs the worker's Python factors (default: one runner process configured by the environment, whose
    /// stderr goes to this worker's log).
    public init(store: any PlatformStore, options: Options, logger: Logger = Logger(label: "factorlab.worker"),
                python: PythonFactorRunner? = nil, onOutcome: @escaping @Sendable (Outcome) -> Void = { _ in }) {
        self.store = store
        self.options = options
        var logger = logger
        logger[metadataKey: "worker"] = "\(options.name)"
        let pythonLogger = logger
        runner = TaskRunner(threads: max(1, Parallel.defaultThreads / options.concurrency),
                            python: python ?? PythonFactorRunner(settings: .fromEnvironment()) { text in
                                for line in text.split(separator: "\n") { pythonLogger.info("python: \(line)") }
                            })
        self.logger = logger
        self.onOutcome = onOutcome
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    /// Runs until the mode says stop; returns every task outcome.
    public func run() -> [Outcome] {
        DispatchQueue.concurrentPerform(iterations: options.concurrency) { slot in
            let owner = options.concurrency == 1 ? options.name : "\(options.name)#\(slot + 1)"
            loop(owner: owner)
        }
        lock.lock(); defer { lock.unlock() }
        return outcomes
    }

    private func loop(owner: String) {
        var lastSweep = Date.distantPast
        while !isStopping {
            // Tasks whose lease expired on their last attempt are never leased again; someone must fail them.
            if Date().timeIntervalSince(lastSweep) >= max(1, options.pollSeconds) {
                JobFinisher.failLostTasks(store: store, logger: logger)
                lastSweep = Date()
            }
            let lease: Lease?
            do {
                leasing.lock()
                defer { leasing.unlock() }
                if isStopping { return }
                lease = try store.leaseTask(owner: owner, seconds: options.leaseSeconds, now: Self.now())
                if let lease { setHeld(lease.task.id, owner) }
            } catch {
                logger.error("cannot lease a task", metadata: ["owner": "\(owner)", "error": "\(error)"])
                Thread.sleep(forTimeInterval: options.pollSeconds)
                continue
            }
            guard let lease else {
                // Until-empty waits while tasks run elsewhere: one of them may come back when its lease lapses.
                if options.mode == .once { return }
                if options.mode == .untilEmpty && ((try? store.openTaskCount()) ?? 0) == 0 { return }
                Thread.sleep(forTimeInterval: options.pollSeconds)
                continue
            }
            process(lease, owner: owner)
            if options.mode == .once { return }
        }
    }

    /// Runs one leased task to its end (also used by `run-task`).
    @discardableResult
    public func process(_ lease: Lease, owner: String) -> Outcome {
        let task = lease.task
        setHeld(task.id, owner)
        let heartbeat = startHeartbeat(taskId: task.id, owner: owner)
        let started = Date()
        var outcome = Outcome(taskId: task.id, jobId: task.jobId, status: "RUNNING", attempt: task.attempts, results: 0,
                              seconds: 0, error: nil, retryable: nil)
        outcome.worker = owner
        do {
            guard let payload = try? JSONDecoder().decode(TaskPayload.self, from: Data(task.payload.utf8)) else {
                throw TaskFailure(message: "the task payload is not readable", retryable: false)
            }
            let evaluationStarted = Date()
            let results = try runner.run(payload, runId: lease.job.runId)
            outcome.evaluateSeconds = Date().timeIntervalSince(evaluationStarted)
            let run = RunRecord(runId: lease.job.runId, createdAt: Clock.now(), kind: "job", parameters: lease.job.parameters)
            let storeStarted = Date()
            let completed = try store.completeTask(taskId: task.id, owner: owner, run: run, results: results, now: Self.now())
            outcome.storeSeconds = Date().timeIntervalSince(storeStarted)
            if completed {
                outcome.status = "SUCCESS"
                outcome.results = results.count
                outcome.failedFactors = Self.failedFactors(results.map(\.result))
            } else {
                outcome.status = "LOST_LEASE"
                outcome.error = "the lease expired before the task finished; another worker owns it now"
            }
        } catch {
            let failure = (error as? TaskFailure) ?? TaskFailure(message: "\(error)", retryable: true)
            let backoff = RetryBackoff.seconds(afterAttempt: task.attempts, base: options.backoffSeconds)
            try? store.failTask(taskId: task.id, owner: owner, error: failure.message, retryable: failure.retryable,
                                backoff: backoff, now: Self.now())
            let after = try? store.task(id: task.id)
            outcome.status = after?.status.rawValue ?? "FAILED"
            outcome.error = failure.message
            outcome.retryable = failure.retryable
        }
        heartbeat.cancel()
        setHeld(task.id, nil)
        outcome.seconds = Date().timeIntervalSince(started)
        var metadata: Logger.Metadata = ["task": "\(task.id)", "job": "\(task.jobId)", "attempt": "\(task.attempts)",
                                         "seconds": "\(String(format: "%.2f", outcome.seconds))", "results": "\(outcome.results)"]
        if let error = outcome.error { metadata["error"] = "\(error)" }
        logger.log(level: outcome.error == nil ? .info : .warning, "task \(outcome.status)", metadata: metadata)
        onOutcome(outcome)
        JobFinisher.finishIfDone(jobId: task.jobId, store: store, logger: logger)
        lock.lock(); outcomes.append(outcome); lock.unlock()
        return outcome
    }

    /// Codes of the factors with an error result, each once, in the task's order.
    public static func failedFactors(_ results: [ResultRecord]) -> [String] {
        var seen = Set<String>()
        return results.compactMap { $0.error == nil ? nil : $0.key.factorCode }.filter { seen.insert($0).inserted }
    }

    private func startHeartbeat(taskId: String, owner: String) -> DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        let interval = max(0.05, options.leaseSeconds / 3)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        let store = self.store, seconds = options.leaseSeconds
        timer.setEventHandler {
            _ = try? store.renewLease(taskId: taskId, owner: owner, seconds: seconds, now: Worker.now())
        }
        timer.resume()
        return timer
    }

    private func setHeld(_ taskId: String, _ owner: String?) {
        lock.lock(); held[taskId] = owner; lock.unlock()
    }

    private var isStopping: Bool { lock.lock(); defer { lock.unlock() }; return stopping }

    /// Stops taking tasks and gives back every lease held (SIGTERM): the tasks return to the queue at once.
    public func releaseAll() {
        leasing.lock()
        defer { leasing.unlock() }
        lock.lock()
        stopping = true
        let leases = held
        lock.unlock()
        for (task, owner) in leases { try? store.releaseTask(taskId: task, owner: owner) }
    }
}

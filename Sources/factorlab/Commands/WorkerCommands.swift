import ArgumentParser
import Dispatch
import FactorPlatform
import FactorStore
import Foundation
import Logging

/// On SIGTERM (and SIGINT): give every held lease back, then exit with `exitCode` (0 for a worker stopping cleanly;
/// `run-task` says 75, "try again", because its one task did not finish).
/// The caller keeps the returned sources alive for as long as it runs (cancel them in a `defer`): a source freed early
/// leaves the signal ignored.
func releaseLeasesOnTermination(exitCode: Int32 = 0, name: String, release: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
    [SIGTERM, SIGINT].map { signalNumber in
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: DispatchQueue.global())
        source.setEventHandler {
            release()
            Terminal.info("\(name): stopped by signal \(signalNumber); leases released")
            Foundation.exit(exitCode)
        }
        source.resume()
        return source
    }
}

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Run queued tasks (several workers may share one database).")
    @OptionGroup var store: StoreOptions
    @Option(help: "Tasks run at once in this process.") var concurrency: Int = 1
    @Flag(help: "Run one task and exit.") var once = false
    @Flag(help: "Exit when no task is pending or running (waits for tasks running elsewhere, which may come back).") var untilEmpty = false
    @Option(help: "Worker name in leases and logs (default: host-pid).") var name: String?
    @Option(help: "Lease length in seconds (default: $FACTOR_LEASE_SECONDS, else 60); renewed every third of it.") var leaseSeconds: Double?
    @Option(help: "Idle poll interval in seconds.") var poll: Double = 1
    @Option(help: "Work for a FactorLab server through its API instead of a database, e.g. http://host:8080.") var server: String?
    @Option(help: "API token with the worker role (with --server).") var token: String?
    @Option(help: "With --server: read data from this directory instead of the path the server planned with.") var data: String?

    func run() async throws {
        let mode: Worker.Mode = once ? .once : (untilEmpty ? .untilEmpty : .forever)
        if let server {
            let (url, token) = try FactorLab.serverEndpoint(server, token: token)
            let workerName = name ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
            let remote = RemoteWorker(server: url, token: token, name: workerName, leaseSeconds: FactorLab.leaseSeconds(leaseSeconds),
                                      mode: mode, concurrency: concurrency, pollSeconds: poll, dataOverride: data)
            let signals = releaseLeasesOnTermination(name: workerName, release: remote.releaseAll)
            // A real use at the end of the scope: `_ = signals` let the optimiser free the sources early, and a release
            // build then ignored SIGTERM (the signal is set to SIG_IGN for the sources).
            defer { signals.forEach { $0.cancel() } }
            let outcomes = try await remote.run()
            if store.json { try store.printJSON(outcomes); return }
            Terminal.info("\(workerName): \(outcomes.count) tasks run through \(server), \(outcomes.filter { $0.status == "FAILED" }.count) failed")
            return
        }
        let db = try store.openStore(for: [.worker], to: "run tasks").store
        let workerName = name ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        let worker = Worker(store: db, options: Worker.Options(name: workerName, concurrency: concurrency, mode: mode,
                                                               leaseSeconds: FactorLab.leaseSeconds(leaseSeconds), pollSeconds: poll))
        let signals = releaseLeasesOnTermination(name: workerName, release: worker.releaseAll)
        defer { signals.forEach { $0.cancel() } }
        // Workers also send the webhooks their jobs raise, so events go out without a server running; the outbox
        // claim keeps two senders from sending one delivery twice.
        let deliverer = WebhookDeliverer(store: db)
        let deliveries = deliverer.start()
        let outcomes = worker.run()
        deliveries.cancel()
        await deliverer.deliverDue()
        if store.json { try store.printJSON(outcomes); return }
        let failed = outcomes.filter { $0.status == "FAILED" }.count
        Terminal.info("\(workerName): \(outcomes.count) tasks run, \(failed) failed")
    }
}

struct RunTaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-task",
        abstract: "Run one task in the foreground under a lease (for orchestrators: one Airflow task per FactorLab task).",
        discussion: """
            Never retries by itself: the orchestrator does. Exit 0: the task succeeded (or already had: "alreadyDone"). \
            65: it failed for good. 75: try again later (leased by a live worker, a retryable failure, the database or \
            server unreachable, or stopped by SIGTERM, which gives the lease back). 99: the task was cancelled.
            """)
    @OptionGroup var store: StoreOptions
    @Argument var id: String
    @Option(help: "The orchestrator's attempt number (recorded in the log; the queue counts attempts itself).") var attempt: Int?
    @Option var leaseSeconds: Double?
    @Option(help: "Lease and complete the task through a FactorLab server instead of a database, e.g. http://host:8080.") var server: String?
    @Option(help: "API token with the worker role (with --server; default $FACTOR_TOKEN).") var token: String?
    @Option(help: "With --server: read data from this directory instead of the path the server planned with.") var data: String?

    func run() async throws {
        let outcome = try await server == nil ? runHere() : runThroughServer()
        if store.json { try store.printJSON(outcome) } else { print("task \(outcome.taskId): \(outcome.status)\(outcome.error.map { " — " + $0 } ?? "")") }
        if let status = Self.exitStatus(outcome.status) { throw ExitCode(status.rawValue) }
    }

    /// What each final state means to an orchestrator (nil: exit 0).
    static func exitStatus(_ taskStatus: String) -> ExitStatus? {
        switch taskStatus {
        case "SUCCESS": return nil
        case "FAILED": return .dataError
        case "CANCELLED": return .cancelled
        default: return .temporary  // PENDING again after a retryable failure, LEASED_ELSEWHERE, LOST_LEASE
        }
    }

    private var logger: Logger {
        var logger = Logger(label: "factorlab.worker")
        if let attempt { logger[metadataKey: "orchestrator_attempt"] = "\(attempt)" }
        return logger
    }

    private func runHere() throws -> Worker.Outcome {
        let db = try store.openStore(for: [.worker], to: "run tasks", entity: id).store
        let owner = "run-task-\(ProcessInfo.processInfo.processIdentifier)"
        let seconds = FactorLab.leaseSeconds(leaseSeconds)
        // Installed before the lease is taken, so a signal at any moment gives it back (releasing a lease this process
        // does not hold changes nothing).
        let taskId = id
        let signals = releaseLeasesOnTermination(exitCode: ExitStatus.temporary.rawValue, name: owner) {
            try? db.releaseTask(taskId: taskId, owner: owner)
        }
        defer { signals.forEach { $0.cancel() } }
        JobFinisher.failLostTasks(store: db, logger: logger)
        guard let lease = try db.leaseTask(id: id, owner: owner, seconds: seconds, now: Date().timeIntervalSince1970) else {
            // Not runnable: say why, from the task's state after the refused lease (it may have changed just now).
            guard let task = try db.task(id: id) else { throw StoreError.unknownTask(id) }
            return Self.notRunnable(task)
        }
        let worker = Worker(store: db, options: Worker.Options(name: owner, leaseSeconds: seconds), logger: logger)
        return worker.process(lease, owner: owner)
    }

    private func runThroughServer() async throws -> Worker.Outcome {
        let (url, token) = try FactorLab.serverEndpoint(server ?? "", token: token)
        let name = "run-task-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        let remote = RemoteWorker(server: url, token: token, name: name, leaseSeconds: FactorLab.leaseSeconds(leaseSeconds),
                                  mode: .once, dataOverride: data, logger: logger)
        let taskId = id
        let signals = releaseLeasesOnTermination(exitCode: ExitStatus.temporary.rawValue, name: name) { remote.release(taskId: taskId) }
        defer { signals.forEach { $0.cancel() } }
        return try await remote.runTask(id: id)
    }

    /// The outcome of a task this call could not lease.
    static func notRunnable(_ task: TaskRecord) -> Worker.Outcome {
        var outcome = Worker.Outcome(taskId: task.id, jobId: task.jobId, status: task.status.rawValue, attempt: task.attempts, results: 0,
                                     seconds: 0, error: task.error, retryable: false)
        switch task.status {
        case .success:
            outcome.alreadyDone = true
            outcome.error = nil
        case .failed, .cancelled:
            break
        case .pending, .running:
            outcome.status = "LEASED_ELSEWHERE"
            outcome.error = "another worker holds the task's lease"
            outcome.retryable = true
        }
        return outcome
    }
}

/// Helpers shared by the worker commands.
enum FactorLab {
    /// Lease length: --lease-seconds, else $FACTOR_LEASE_SECONDS, else 60.
    static func leaseSeconds(_ flag: Double?) -> Double {
        flag ?? ProcessInfo.processInfo.environment["FACTOR_LEASE_SECONDS"].flatMap(Double.init) ?? 60
    }

    /// `--server` and its token (`--token`, else $FACTOR_TOKEN), checked, for the commands that work through the API.
    static func serverEndpoint(_ server: String, token: String?) throws -> (url: URL, token: String) {
        guard let url = URL(string: server), url.scheme == "http" || url.scheme == "https" else {
            throw ValidationError("--server must be a URL such as http://127.0.0.1:8080")
        }
        guard let token = token ?? ProcessInfo.processInfo.environment["FACTOR_TOKEN"] else {
            throw ValidationError("--server needs --token (a worker token; or $FACTOR_TOKEN)")
        }
        return (url, token)
    }
}

struct DeliverWebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver-webhooks",
        abstract: "Send queued webhook deliveries (serve and workers do this too); --once for cron.")
    @OptionGroup var store: StoreOptions
    @Flag(help: "Attempt every due delivery once and exit.") var once = false
    @Option(help: "Seconds between passes.") var interval: Double = 1

    func run() async throws {
        let deliverer = WebhookDeliverer(store: try store.openStore(for: [.worker], to: "deliver webhooks").store)
        if once {
            let sent = await deliverer.deliverDue()
            if store.json { try store.printJSON(["delivered": sent]) } else { Terminal.info("\(sent) deliveries sent") }
            return
        }
        Terminal.info("sending webhook deliveries every \(interval) s; stop with Ctrl-C or SIGTERM")
        while true {
            await deliverer.deliverDue()
            try await Task.sleep(for: .seconds(interval))
        }
    }
}

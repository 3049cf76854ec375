import Dispatch
import FactorExpr
import FactorPlatform
import FactorStore
import Foundation
import Logging

/// A worker that leases and completes tasks through the HTTP API (`worker --server URL --token T`): the same loop
/// as a local worker, with the queue on the other side of `/jobs/dequeue`, `/tasks/{id}/heartbeat` and
/// `/tasks/{id}/complete`: `--concurrency` slots, `--once`, leases given back on SIGTERM, and a heartbeat the
/// server refuses (409: the lease lapsed and moved on) ends the attempt without sending its results.
final class RemoteWorker: @unchecked Sendable {
    let server: URL
    let token: String
    let name: String
    private let logger: Logger
    let leaseSeconds: Double
    let mode: Worker.Mode
    let concurrency: Int
    let pollSeconds: Double
    let dataOverride: String?
    let runner: TaskRunner
    private let lock = NSCondition()
    private var held: [String: String] = [:]  // task id → the slot's worker name
    private var lost: Set<String> = []  // task ids whose heartbeat the server refused
    /// The longest a lease or completion request may take, answer included (a completion carries every result).
    private let requestTimeout: Double = 120
    private var stopping = false
    /// Lease requests sent and not yet answered: SIGTERM waits for them, since the server may have granted one.
    private var leasesInFlight = 0

    init(server: URL, token: String, name: String, leaseSeconds: Double, mode: Worker.Mode, concurrency: Int = 1,
         pollSeconds: Double = 1, dataOverride: String?, logger: Logger = Logger(label: "factorlab.worker")) {
        self.logger = logger
        self.server = server
        self.token = token
        self.name = name
        self.leaseSeconds = leaseSeconds
        self.mode = mode
        self.concurrency = max(1, concurrency)
        self.pollSeconds = pollSeconds
        self.dataOverride = dataOverride
        runner = TaskRunner(threads: max(1, Parallel.defaultThreads / max(1, concurrency)))
    }

    struct LeaseReply: Decodable {
        struct Task: Decodable { var id: String; var attempts: Int }
        struct Job: Decodable { var id: String; var runId: String }
        var task: Task
        var job: Job
        var payload: TaskPayload
    }

    struct Completion: Encodable {
        struct Item: Encodable { var result: ResultRecord; var series: [ResultSeriesRow] }
        var worker: String
        var results: [Item]?
        var error: String?
        var retryable: Bool?
    }

    /// Runs `concurrency` slots until the mode says stop; returns every task outcome.
    /// A slot's error does not cancel the others (one of them may be sending results); it is thrown once all end.
    func run() async throws -> [Worker.Outcome] {
        let ended = await withTaskGroup(of: Result<[Worker.Outcome], any Error>.self) { group in
            for slot in 0..<concurrency {
                let slotName = concurrency == 1 ? name : "\(name)#\(slot + 1)"
                group.addTask {
                    do { return .success(try await self.loop(worker: slotName)) } catch { return .failure(error) }
                }
            }
            var all: [Result<[Worker.Outcome], any Error>] = []
            for await result in group { all.append(result) }
            return all
        }
        var outcomes: [Worker.Outcome] = []
        for result in ended { outcomes += try result.get() }
        return outcomes
    }

    private func loop(worker: String) async throws -> [Worker.Outcome] {
        var outcomes: [Worker.Outcome] = []
        while !isStopping {
            let status: Int, data: Data, lease: LeaseReply?
            do {
                (status, data, lease) = try await requestLease(worker: worker)
            } catch is Stopping {
                return outcomes
            } catch let unavailable as ServerUnavailable where mode == .forever {
                // A long-running worker outlives a server restart or a network blip: wait and ask again.
                logger.warning("cannot lease: \(unavailable.message); retrying", metadata: ["worker": "\(worker)"])
                try await Task.sleep(for: .seconds(max(1, pollSeconds)))
                continue
            }
            if status >= 500 && mode == .forever {
                logger.warning("the server answered \(status) to a lease request; retrying", metadata: ["worker": "\(worker)"])
                try await Task.sleep(for: .seconds(max(1, pollSeconds)))
                continue
            }
            if status == 204 {
                if mode != .forever { return outcomes }
                try await Task.sleep(for: .seconds(pollSeconds))
                continue
            }
            guard status == 200, let lease else {
                if status >= 500 { throw ServerUnavailable(message: "the server answered \(status) to a lease request: \(String(decoding: data, as: UTF8.self))") }
                throw CLIError("the server answered \(status) to a lease request: \(String(decoding: data, as: UTF8.self))")
            }
            outcomes.append(try await execute(lease, worker: worker))
            if mode == .once { return outcomes }
        }
        return outcomes
    }

    private var isStopping: Bool { lock.lock(); defer { lock.unlock() }; return stopping }

    private struct Stopping: Error {}

    /// Asks the server for a lease and records a granted one as held before anyone can look: a SIGTERM that
    /// arrives while the request is on its way waits for the answer (`releaseAll`) and then gives that lease back.
    private func requestLease(worker: String) async throws -> (Int, Data, LeaseReply?) {
        guard beginLeaseRequest() else { throw Stopping() }
        var lease: LeaseReply?
        defer { endLeaseRequest(lease, worker: worker) }
        let (status, data) = try await post("/jobs/dequeue", ["worker": worker, "leaseSeconds": leaseSeconds] as [String: Any])
        if status == 200 { lease = try JSONDecoder().decode(LeaseReply.self, from: data) }
        return (status, data, lease)
    }

    private func beginLeaseRequest() -> Bool {
        lock.lock(); defer { lock.unlock() }
        if stopping { return false }
        leasesInFlight += 1
        return true
    }

    private func endLeaseRequest(_ lease: LeaseReply?, worker: String) {
        lock.lock(); defer { lock.unlock() }
        if let lease { held[lease.task.id] = worker; lost.remove(lease.task.id) }
        leasesInFlight -= 1
        lock.broadcast()
    }

    /// Stops taking tasks and gives every held lease back (SIGTERM): the tasks are runnable again at once. A lease
    /// request still on its way is waited for (up to 20 s), so a lease the server granted just now is given back too.
    func releaseAll() {
        lock.lock()
        stopping = true
        let deadline = Date().addingTimeInterval(20)
        while leasesInFlight > 0 && lock.wait(until: deadline) {}
        let leases = held
        lock.unlock()
        for (taskId, worker) in leases { release(taskId: taskId, worker: worker) }
    }

    /// Runs one given task (`run-task ID --server`): leases it through `/tasks/{id}/lease`, evaluates it here and
    /// completes it; a task that is not runnable is reported with its state instead (already done, failed, cancelled,
    /// or leased by another worker).
    func runTask(id: String) async throws -> Worker.Outcome {
        let (status, data) = try await post("/tasks/\(id)/lease", ["worker": name, "leaseSeconds": leaseSeconds] as [String: Any])
        switch status {
        case 200:
            return try await execute(try JSONDecoder().decode(LeaseReply.self, from: data), worker: name)
        case 409:
            let answer = try? JSONDecoder().decode(APIErrorBody.self, from: data)
            let state = answer?.error.taskStatus ?? "RUNNING"
            var outcome = Worker.Outcome(taskId: id, jobId: answer?.error.jobId ?? "", status: state == "RUNNING" ? "LEASED_ELSEWHERE" : state,
                                         attempt: answer?.error.attempts ?? 0, results: 0, seconds: 0,
                                         error: answer?.error.message, retryable: state == "RUNNING")
            outcome.alreadyDone = state == "SUCCESS"
            if outcome.alreadyDone { outcome.error = nil }
            return outcome
        case 500...:
            throw ServerUnavailable(message: "the server answered \(status) to a lease request for task \(id): \(String(decoding: data, as: UTF8.self))")
        default:
            throw CLIError("the server refused to lease task \(id) (\(status)): \(String(decoding: data, as: UTF8.self))")
        }
    }

    /// The error body of the API, with the task state a refused lease carries.
    struct APIErrorBody: Decodable {
        struct Detail: Decodable { var message: String; var taskStatus: String?; var jobId: String?; var attempts: Int? }
        var error: Detail
    }

    /// Evaluates a leased task here, heartbeating while it runs, and completes it on the server.
    private func execute(_ lease: LeaseReply, worker: String) async throws -> Worker.Outcome {
        var payload = lease.payload
        if let dataOverride { payload.dataDirectory = dataOverride }
        let taskId = lease.task.id
        setHeld(taskId, worker)  // already so for a dequeued lease; run-task's lease of one task is recorded here
        defer { setHeld(taskId, nil) }
        if isStopping {
            // SIGTERM came while this lease was on its way: give it straight back.
            release(taskId: taskId, worker: worker)
            var outcome = Worker.Outcome(taskId: taskId, jobId: lease.job.id, status: "RELEASED", attempt: lease.task.attempts, results: 0,
                                         seconds: 0, error: "the worker is stopping", retryable: true)
            outcome.worker = worker
            return outcome
        }
        let heartbeat = startHeartbeat(taskId: taskId, worker: worker)
        let started = Date()
        var body = Completion(worker: worker)
        var outcome = Worker.Outcome(taskId: taskId, jobId: lease.job.id, status: "RUNNING", attempt: lease.task.attempts,
                                     results: 0, seconds: 0, error: nil, retryable: nil)
        outcome.worker = worker
        // The evaluation blocks its thread for seconds: a Dispatch thread, not one of the few cooperative ones.
        let runner = self.runner, runId = lease.job.runId, work = payload
        let evaluated: Result<[(result: ResultRecord, series: [ResultSeriesRow])], TaskFailure> = await withCheckedContinuation { done in
            DispatchQueue.global().async { done.resume(returning: Result { () throws(TaskFailure) in try runner.run(work, runId: runId) }) }
        }
        switch evaluated {
        case .success(let results):
            outcome.evaluateSeconds = Date().timeIntervalSince(started)
            body.results = results.map { .init(result: $0.result, series: $0.series) }
            outcome.results = results.count
            outcome.failedFactors = Worker.failedFactors(results.map(\.result))
        case .failure(let error):
            body.error = error.message
            body.retryable = error.retryable
            outcome.error = error.message
            outcome.retryable = error.retryable
        }
        heartbeat.cancel()
        if takeLost(taskId) {
            // The server said the lease is gone: another worker owns the task; sending results would be refused anyway.
            outcome.seconds = Date().timeIntervalSince(started)
            outcome.status = "LOST_LEASE"
            outcome.results = 0
            outcome.error = "the server refused a heartbeat (the lease lapsed and another worker owns the task); the results were not sent"
            logger.warning("task LOST_LEASE", metadata: ["worker": "\(worker)", "task": "\(taskId)", "attempt": "\(lease.task.attempts)"])
            return outcome
        }
        let sent = Date()
        let (doneStatus, doneData) = try await post("/tasks/\(taskId)/complete", raw: try JSONEncoder().encode(body))
        outcome.storeSeconds = Date().timeIntervalSince(sent)
        outcome.seconds = Date().timeIntervalSince(started)
        switch doneStatus {
        case 200:
            outcome.status = (try? JSONDecoder().decode(TaskState.self, from: doneData).status) ?? (body.error == nil ? "SUCCESS" : "FAILED")
        case 409:
            outcome.status = "LOST_LEASE"
            outcome.error = "the lease expired before the task finished; another worker owns it now"
        default:
            outcome.status = "UNKNOWN"
            outcome.error = "the server answered \(doneStatus) to the completion: \(String(decoding: doneData, as: UTF8.self))"
        }
        if outcome.status != "SUCCESS" { outcome.results = 0 }
        var metadata: Logger.Metadata = ["worker": "\(worker)", "task": "\(taskId)", "attempt": "\(lease.task.attempts)",
                                         "seconds": "\(String(format: "%.2f", outcome.seconds))", "server_status": "\(doneStatus)"]
        if let error = outcome.error { metadata["error"] = "\(error)" }
        logger.log(level: outcome.status == "SUCCESS" ? .info : .warning, "task \(outcome.status)", metadata: metadata)
        return outcome
    }

    struct TaskState: Decodable { var status: String }

    /// Gives this worker's lease of `taskId` back to the server (SIGTERM), so the task is runnable again at once; the
    /// server ignores it when this worker holds no lease of it. A busy server gets up to 20 s; after that the lease
    /// is left to lapse by itself (and the log says so).
    func release(taskId: String, worker: String? = nil) {
        let body = try? JSONSerialization.data(withJSONObject: ["worker": worker ?? name])
        if HTTPSender.sendWaiting(url("/tasks/\(taskId)/release"), headers: headers, body: body, timeout: 20) == nil {
            logger.warning("the server did not answer the release in 20 s; the lease will lapse by itself", metadata: ["task": "\(taskId)"])
        }
    }

    /// Renews the lease every third of its length; a 409 marks the attempt lost. A heartbeat that does not get
    /// through (the network is down) changes nothing: the server decides, by its clock, when the lease lapses.
    private func startHeartbeat(taskId: String, worker: String) -> DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        let interval = max(0.1, leaseSeconds / 3)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        let body = try? JSONSerialization.data(withJSONObject: ["worker": worker, "leaseSeconds": leaseSeconds])
        let address = url("/tasks/\(taskId)/heartbeat"), headers = self.headers, logger = self.logger
        timer.setEventHandler { [weak self] in
            Task { [weak self] in
                guard let answer = try? await HTTPSender.send(address, headers: headers, body: body, timeout: max(1, interval)),
                      answer.status == 409, let self else { return }
                logger.warning("the server refused the heartbeat: the lease is lost", metadata: ["worker": "\(worker)", "task": "\(taskId)"])
                self.markLost(taskId)
            }
        }
        timer.resume()
        return timer
    }

    /// Starting or ending an attempt also forgets a refusal that belonged to an earlier one (a heartbeat still in
    /// flight when the attempt ended).
    private func setHeld(_ taskId: String, _ worker: String?) {
        lock.lock(); held[taskId] = worker; lost.remove(taskId); lock.unlock()
    }

    private func markLost(_ taskId: String) {
        lock.lock(); if held[taskId] != nil { lost.insert(taskId) }; lock.unlock()
    }

    private func takeLost(_ taskId: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return lost.remove(taskId) != nil
    }

    /// The server's address for an API path such as `/tasks/lease`.
    private func url(_ path: String) -> String {
        server.appendingPathComponent(String(path.dropFirst())).absoluteString
    }

    private var headers: [(String, String)] { [("Authorization", "Bearer " + token), ("Content-Type", "application/json")] }

    private func post(_ path: String, _ object: [String: Any]) async throws -> (Int, Data) {
        try await post(path, raw: try JSONSerialization.data(withJSONObject: object))
    }

    private func post(_ path: String, raw: Data) async throws -> (Int, Data) {
        do {
            let answer = try await HTTPSender.send(url(path), headers: headers, body: raw, timeout: requestTimeout)
            return (answer.status, answer.body)
        } catch {
            throw ServerUnavailable(message: "cannot reach \(server.absoluteString) (\(path)): \(HTTPSender.describe(error, timeout: requestTimeout))")
        }
    }
}

/// The server could not be reached or answered 5xx: worth trying again later (exit 75).
struct ServerUnavailable: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

import Dispatch
import FactorPlatform
import FactorStore
import Foundation
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A worker that leases and completes tasks through the HTTP API (`worker --server URL --token T`): the same loop
/// as a local worker, with the queue on the other side of `/jobs/dequeue`, `/tasks/{id}/heartbeat` and
/// `/tasks/{id}/complete`.
final class RemoteWorker: @unchecked Sendable {
    let server: URL
    let token: String
    let name: String
    private let logger: Logger
    let leaseSeconds: Double
    let untilEmpty: Bool
    let dataOverride: String?
    let runner = TaskRunner()
    private let session = URLSession(configuration: .ephemeral)

    init(server: URL, token: String, name: String, leaseSeconds: Double, untilEmpty: Bool, dataOverride: String?,
         logger: Logger = Logger(label: "factorlab.worker")) {
        self.logger = logger
        self.server = server
        self.token = token
        self.name = name
        self.leaseSeconds = leaseSeconds
        self.untilEmpty = untilEmpty
        self.dataOverride = dataOverride
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

    /// Runs until the queue is empty (`untilEmpty`) or forever; returns the number of tasks run.
    func run() async throws -> Int {
        var count = 0
        while true {
            let (status, data) = try await post("/jobs/dequeue", ["worker": name, "leaseSeconds": leaseSeconds] as [String: Any])
            if status == 204 {
                if untilEmpty { return count }
                try await Task.sleep(for: .seconds(1))
                continue
            }
            guard status == 200 else { throw CLIError("the server answered \(status) to a lease request: \(String(decoding: data, as: UTF8.self))") }
            _ = try await execute(try JSONDecoder().decode(LeaseReply.self, from: data))
            count += 1
        }
    }

    /// Runs one given task (`run-task ID --server`): leases it through `/tasks/{id}/lease`, evaluates it here and
    /// completes it; a task that is not runnable is reported with its state instead (already done, failed, cancelled,
    /// or leased by another worker).
    func runTask(id: String) async throws -> Worker.Outcome {
        let (status, data) = try await post("/tasks/\(id)/lease", ["worker": name, "leaseSeconds": leaseSeconds] as [String: Any])
        switch status {
        case 200:
            return try await execute(try JSONDecoder().decode(LeaseReply.self, from: data))
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
    private func execute(_ lease: LeaseReply) async throws -> Worker.Outcome {
        var payload = lease.payload
        if let dataOverride { payload.dataDirectory = dataOverride }
        let heartbeat = startHeartbeat(taskId: lease.task.id)
        let started = Date()
        var body = Completion(worker: name)
        var outcome = Worker.Outcome(taskId: lease.task.id, jobId: lease.job.id, status: "RUNNING", attempt: lease.task.attempts,
                                     results: 0, seconds: 0, error: nil, retryable: nil)
        do {
            let results = try runner.run(payload, runId: lease.job.runId)
            outcome.evaluateSeconds = Date().timeIntervalSince(started)
            body.results = results.map { .init(result: $0.result, series: $0.series) }
            outcome.results = results.count
            outcome.failedFactors = Worker.failedFactors(results.map(\.result))
        } catch {
            body.error = error.message
            body.retryable = error.retryable
            outcome.error = error.message
            outcome.retryable = error.retryable
        }
        heartbeat.cancel()
        let (doneStatus, doneData) = try await post("/tasks/\(lease.task.id)/complete", raw: try JSONEncoder().encode(body))
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
        var metadata: Logger.Metadata = ["worker": "\(name)", "task": "\(lease.task.id)", "attempt": "\(lease.task.attempts)",
                                         "seconds": "\(String(format: "%.2f", outcome.seconds))", "server_status": "\(doneStatus)"]
        if let error = outcome.error { metadata["error"] = "\(error)" }
        logger.log(level: outcome.status == "SUCCESS" ? .info : .warning, "task \(outcome.status)", metadata: metadata)
        return outcome
    }

    struct TaskState: Decodable { var status: String }

    /// Gives this worker's lease of `taskId` back to the server (SIGTERM), so the task is runnable again at once; the
    /// server ignores it when this worker holds no lease of it.
    func release(taskId: String) {
        let done = DispatchSemaphore(value: 0)
        let request = makeRequest("/tasks/\(taskId)/release", body: try? JSONSerialization.data(withJSONObject: ["worker": name]))
        session.dataTask(with: request) { _, _, _ in done.signal() }.resume()
        _ = done.wait(timeout: .now() + 5)
    }

    private func startHeartbeat(taskId: String) -> DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        let interval = max(0.1, leaseSeconds / 3)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        let request = makeRequest("/tasks/\(taskId)/heartbeat", body: try? JSONSerialization.data(withJSONObject: ["worker": name, "leaseSeconds": leaseSeconds]))
        let session = self.session
        timer.setEventHandler { session.dataTask(with: request).resume() }
        timer.resume()
        return timer
    }

    private func makeRequest(_ path: String, body: Data?) -> URLRequest {
        var request = URLRequest(url: server.appendingPathComponent(String(path.dropFirst())))
        request.httpMethod = "POST"
        request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        return request
    }

    private func post(_ path: String, _ object: [String: Any]) async throws -> (Int, Data) {
        try await post(path, raw: try JSONSerialization.data(withJSONObject: object))
    }

    private func post(_ path: String, raw: Data) async throws -> (Int, Data) {
        do {
            let (data, response) = try await session.data(for: makeRequest(path, body: raw))
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        } catch {
            throw ServerUnavailable(message: "cannot reach \(server.absoluteString) (\(path)): \(error.localizedDescription)")
        }
    }
}

/// The server could not be reached or answered 5xx: worth trying again later (exit 75).
struct ServerUnavailable: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

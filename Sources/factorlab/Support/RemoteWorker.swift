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
    private let logger = Logger(label: "factorlab.worker")
    let leaseSeconds: Double
    let untilEmpty: Bool
    let dataOverride: String?
    let runner = TaskRunner()
    private let session = URLSession(configuration: .ephemeral)

    init(server: URL, token: String, name: String, leaseSeconds: Double, untilEmpty: Bool, dataOverride: String?) {
        self.server = server
        self.token = token
        self.name = name
        self.leaseSeconds = leaseSeconds
        self.untilEmpty = untilEmpty
        self.dataOverride = dataOverride
    }

    struct LeaseReply: Decodable {
        struct Task: Decodable { var id: String; var attempts: Int }
        struct Job: Decodable { var runId: String }
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
            let lease = try JSONDecoder().decode(LeaseReply.self, from: data)
            var payload = lease.payload
            if let dataOverride { payload.dataDirectory = dataOverride }
            let heartbeat = startHeartbeat(taskId: lease.task.id)
            let started = Date()
            var body = Completion(worker: name)
            do {
                let results = try runner.run(payload, runId: lease.job.runId)
                body.results = results.map { .init(result: $0.result, series: $0.series) }
            } catch {
                body.error = error.message
                body.retryable = error.retryable
            }
            heartbeat.cancel()
            let encoded = try JSONEncoder().encode(body)
            let (doneStatus, doneData) = try await post("/tasks/\(lease.task.id)/complete", raw: encoded)
            var metadata: Logger.Metadata = ["worker": "\(name)", "task": "\(lease.task.id)", "attempt": "\(lease.task.attempts)",
                                             "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(started)))", "server_status": "\(doneStatus)"]
            if let error = body.error { metadata["error"] = "\(error)" }
            if doneStatus != 200 { metadata["server_answer"] = "\(String(decoding: doneData, as: UTF8.self))" }
            logger.log(level: body.error == nil && doneStatus == 200 ? .info : .warning, "task \(body.error == nil ? "done" : "failed")",
                       metadata: metadata)
            count += 1
        }
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
        let (data, response) = try await session.data(for: makeRequest(path, body: raw))
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }
}

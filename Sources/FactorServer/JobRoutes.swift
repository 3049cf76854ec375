import FactorEval
import FactorPlatform
import FactorStore
import Foundation
import Hummingbird

/// Jobs, and the worker protocol for remote workers.
struct JobRoutes {
    let services: Services

    struct NewJob: Decodable {
        var factors: [String]?
        var category: String?
        var allApproved: Bool?
        var includeDrafts: Bool?
        var start: String?
        var end: String?
        var windows: [JobRequest.Window]?
        var frequencies: [String]?
        var universes: [String]?
        var horizons: [Int]?
        var quantiles: Int?
        var delay: Int?
        var batchSize: Int?
        var priority: Int?
        var maxAttempts: Int?
        var idempotencyKey: String?
        // Evaluation options, named as the CLI's flags.
        var minNames: Int?
        var decayLags: Int?
        var winsorize: String?
        var neutralize: String?
        var size: String?
        var industry: String?
        var zscore: Bool?
        var label: String?
        var compareNeutral: Bool?
    }

    struct Submitted: Encodable { var job: JobRecord; var tasks: Int; var created: Bool }
    /// The same shape as `show-job --json`.
    struct JobDetail: Encodable { var job: JobRecord; var tasks: [TaskRecord]; var top: [ResultRecord]; var failures: [ResultRecord] }
    struct LeaseBody: Decodable { var worker: String; var leaseSeconds: Double? }
    struct LeaseReply: Encodable { var task: TaskRecord; var job: JobRecord; var payload: TaskPayload; var leaseSeconds: Double }
    struct HeartbeatBody: Decodable { var worker: String; var leaseSeconds: Double? }
    struct ReleaseBody: Decodable { var worker: String }
    struct Completion: Decodable {
        var worker: String
        var results: [StoredResult]?
        var error: String?
        var retryable: Bool?
    }
    struct StoredResult: Codable { var result: ResultRecord; var series: [ResultSeriesRow] }

    func register(on router: APIRouter) {
        let store = services.store
        router.post("/jobs", "Submit a job (idempotent with idempotencyKey)") { request, context in
            let caller = try context.require([.researcher, .reviewer], to: "submit jobs")
            let b = try await JSONIO.decode(NewJob.self, from: request, context: context,
                                            allowed: ["factors", "category", "allApproved", "includeDrafts", "start", "end", "windows",
                                                      "frequencies", "universes", "horizons", "quantiles", "delay", "batchSize",
                                                      "priority", "maxAttempts", "idempotencyKey", "minNames", "decayLags", "winsorize",
                                                      "neutralize", "size", "industry", "zscore", "label", "compareNeutral"])
            let selection: JobRequest.Selection
            switch (b.factors, b.category, b.allApproved ?? false) {
            case (let codes?, nil, false): selection = .codes(codes)
            case (nil, let c?, false): selection = .category(c)
            case (nil, nil, true): selection = .allApproved
            default: throw APIError(.badRequest, "select factors with exactly one of: factors, category, allApproved")
            }
            var windows = b.windows ?? []
            if windows.isEmpty {
                guard let start = b.start, let end = b.end else { throw APIError(.badRequest, "give start and end, or windows") }
                windows = [.init(start: start, end: end)]
            }
            var request = JobRequest(selection: selection, includeDrafts: b.includeDrafts ?? false, windows: windows,
                                     frequencies: b.frequencies ?? ["day"], universes: b.universes ?? JobRequest.defaultUniverses(),
                                     horizons: b.horizons ?? [1, 5, 20], delay: b.delay ?? 1, quantiles: b.quantiles ?? 5,
                                     batchSize: b.batchSize ?? JobRequest.defaultBatchSize(), priority: b.priority ?? 0, maxAttempts: b.maxAttempts ?? 3,
                                     idempotencyKey: b.idempotencyKey, dataDirectory: services.dataDirectory, sourceKind: services.sourceKind,
                                     options: EvaluationOptions(minNames: b.minNames, decayLags: b.decayLags, winsorize: b.winsorize,
                                                                neutralize: b.neutralize, size: b.size, industry: b.industry,
                                                                zscore: b.zscore, label: b.label))
            request.compareNeutral = b.compareNeutral == true ? true : nil
            request = request.withIndustryDefault()
            try JobValidation.check(request)
            let planned = try JobPlanner.plan(request, store: store)
            let (job, created) = try store.createJob(planned.job, tasks: planned.tasks, actor: caller.name)
            return try JSONIO.response(Submitted(job: job, tasks: try store.tasks(jobId: job.id).count, created: created),
                                       status: created ? .created : .ok)
        }
        router.get("/jobs", "List jobs (filter: status)") { request, context in
            try context.require([.researcher, .reviewer], to: "read jobs")
            var status: WorkStatus?
            if let s = request.uri.queryParameters["status"] {
                guard let parsed = WorkStatus(rawValue: String(s).uppercased()) else {
                    throw APIError(.badRequest, "status must be one of \(WorkStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                status = parsed
            }
            return try JSONIO.response(try store.jobs(status: status))
        }
        router.get("/jobs/:id", "A job with its tasks, Top-N (top, default 10) and factor failures") { request, context in
            try context.require([.researcher, .reviewer], to: "read jobs")
            let topText = request.uri.queryParameters["top"].map(String.init)
            guard let top = topText.map({ Int($0) }) ?? 10, (1...1000).contains(top) else {
                throw APIError(.badRequest, "top must be an integer 1…1000")
            }
            let id = try context.parameters.require("id")
            guard let job = try store.job(id: id) else { throw StoreError.unknownJob(id) }
            let failures = try JobSummary.failures(job: job, store: store)
            return try JSONIO.response(JobDetail(job: job, tasks: try store.tasks(jobId: id), top: try JobSummary.top(top, job: job, store: store),
                                                 failures: failures))
        }
        router.get("/jobs/:id/summary.csv", "The job's stored summary: every result of its run as CSV (404 until its last task ends)") { _, context in
            try context.require([.researcher, .reviewer], to: "read jobs")
            let id = try context.parameters.require("id")
            guard let job = try store.job(id: id) else { throw StoreError.unknownJob(id) }
            guard let summary = try store.jobSummary(id: id) else {
                throw APIError(.notFound, PlatformError.noSummary(jobId: id, status: job.status).description)
            }
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                                   .contentDisposition: "attachment; filename=\"\(id).csv\""],
                            body: .init(byteBuffer: ByteBuffer(string: summary.csv)))
        }
        router.post("/jobs/:id/cancel", "Cancel what has not started") { _, context in
            let caller = try context.require([.researcher, .reviewer], to: "cancel jobs")
            return try JSONIO.response(try store.cancelJob(id: try context.parameters.require("id"), actor: caller.name))
        }
        router.post("/jobs/:id/retry", "Queue the failed tasks again") { _, context in
            let caller = try context.require([.researcher, .reviewer], to: "retry jobs")
            return try JSONIO.response(try store.retryJob(id: try context.parameters.require("id"), actor: caller.name))
        }
        // Worker protocol.
        router.post("/jobs/dequeue", "Lease the next task (worker)", roles: "worker") { request, context in
            let caller = try context.require([.worker], to: "lease tasks")
            let body = try await JSONIO.decode(LeaseBody.self, from: request, context: context, allowed: ["worker", "leaseSeconds"])
            let seconds = min(3600, max(1, body.leaseSeconds ?? 60))
            JobFinisher.failLostTasks(store: store)
            guard let lease = try store.leaseTask(owner: "\(caller.name):\(body.worker)", seconds: seconds, now: Date().timeIntervalSince1970) else {
                return Response(status: .noContent)
            }
            let payload = try JSONDecoder().decode(TaskPayload.self, from: Data(lease.task.payload.utf8))
            return try JSONIO.response(LeaseReply(task: lease.task, job: lease.job, payload: payload, leaseSeconds: seconds))
        }
        router.post("/tasks/:id/lease", "Lease one given task (worker; run-task --server); 409 names its state when it is not runnable",
                    roles: "worker") { request, context in
            let caller = try context.require([.worker], to: "lease tasks")
            let body = try await JSONIO.decode(LeaseBody.self, from: request, context: context, allowed: ["worker", "leaseSeconds"])
            let id = try context.parameters.require("id")
            let seconds = min(3600, max(1, body.leaseSeconds ?? 60))
            JobFinisher.failLostTasks(store: store)
            guard let lease = try store.leaseTask(id: id, owner: "\(caller.name):\(body.worker)", seconds: seconds, now: Date().timeIntervalSince1970) else {
                guard let task = try store.task(id: id) else { throw StoreError.unknownTask(id) }
                let why = task.status.isTerminal ? "task \(id) is \(task.status.rawValue)" : "task \(id) is leased by another worker"
                throw APIError(.conflict, why, details: ["taskStatus": task.status.rawValue, "jobId": task.jobId, "attempts": String(task.attempts)])
            }
            let payload = try JSONDecoder().decode(TaskPayload.self, from: Data(lease.task.payload.utf8))
            return try JSONIO.response(LeaseReply(task: lease.task, job: lease.job, payload: payload, leaseSeconds: seconds))
        }
        router.post("/tasks/:id/release", "Give a lease back without counting the attempt (worker stopping)", roles: "worker") { request, context in
            let caller = try context.require([.worker], to: "release leases")
            let body = try await JSONIO.decode(ReleaseBody.self, from: request, context: context, allowed: ["worker"])
            let id = try context.parameters.require("id")
            guard try store.task(id: id) != nil else { throw StoreError.unknownTask(id) }
            try store.releaseTask(taskId: id, owner: "\(caller.name):\(body.worker)")
            return try JSONIO.response(try store.task(id: id))
        }
        router.post("/tasks/:id/heartbeat", "Renew a lease (worker)", roles: "worker") { request, context in
            let caller = try context.require([.worker], to: "renew leases")
            let body = try await JSONIO.decode(HeartbeatBody.self, from: request, context: context, allowed: ["worker", "leaseSeconds"])
            let id = try context.parameters.require("id")
            let renewed = try store.renewLease(taskId: id, owner: "\(caller.name):\(body.worker)", seconds: min(3600, max(1, body.leaseSeconds ?? 60)),
                                               now: Date().timeIntervalSince1970)
            guard renewed else { throw APIError(.conflict, "task \(id) is not leased by \(body.worker) any more") }
            return try JSONIO.response(["renewed": true])
        }
        router.post("/tasks/:id/complete", "Complete a task with results or an error (worker)", roles: "worker") { request, context in
            let caller = try context.require([.worker], to: "complete tasks")
            let body = try await JSONIO.decode(Completion.self, from: request, context: context, allowed: ["worker", "results", "error", "retryable"])
            let id = try context.parameters.require("id")
            guard let task = try store.task(id: id), let job = try store.job(id: task.jobId) else { throw StoreError.unknownTask(id) }
            let owner = "\(caller.name):\(body.worker)"
            if let error = body.error {
                try store.failTask(taskId: id, owner: owner, error: error, retryable: body.retryable ?? true,
                                   backoff: RetryBackoff.seconds(afterAttempt: task.attempts), now: Date().timeIntervalSince1970)
            } else {
                let results = body.results ?? []
                guard results.allSatisfy({ $0.result.key.runId == job.runId }) else {
                    throw APIError(.badRequest, "every result must carry the job's run id \(job.runId)")
                }
                let run = RunRecord(runId: job.runId, createdAt: Clock.now(), kind: "job", parameters: job.parameters)
                guard try store.completeTask(taskId: id, owner: owner, run: run, results: results.map { ($0.result, $0.series) },
                                             now: Date().timeIntervalSince1970) else {
                    throw APIError(.conflict, "task \(id) is not leased by \(body.worker) any more; its results were not stored")
                }
            }
            JobFinisher.finishIfDone(jobId: job.id, store: store)
            return try JSONIO.response(try store.task(id: id))
        }
    }
}

/// Checks a job request's values before planning (the same checks as `submit-job`).
enum JobValidation {
    static func check(_ r: JobRequest) throws {
        do { try r.validate() } catch { throw APIError(.badRequest, error.description) }
    }
}

import FactorEval
import FactorPlatform
import FactorStore
import Foundation
import Hummingbird

/// Jobs, and the worker protocol for remote workers.
struct JobRoutes {
    let services: Services

    struct NewJob: Codable {
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

    struct Submitted: Codable { var job: JobRecord; var tasks: Int; var created: Bool }
    /// The same shape as `show-job --json`.
    struct JobDetail: Codable { var job: JobRecord; var tasks: [TaskRecord]; var top: [ResultRecord]; var failures: [ResultRecord] }
    struct LeaseBody: Codable { var worker: String; var leaseSeconds: Double? }
    struct LeaseReply: Codable { var task: TaskRecord; var job: JobRecord; var payload: TaskPayload; var leaseSeconds: Double }
    struct HeartbeatBody: Codable { var worker: String; var leaseSeconds: Double? }
    struct ReleaseBody: Codable { var worker: String }
    struct Completion: Codable {
        var worker: String
        var results: [StoredResult]?
        var error: String?
        var retryable: Bool?
    }
    struct StoredResult: Codable { var result: ResultRecord; var series: [ResultSeriesRow] }
    struct Renewed: Codable { var renewed: Bool }

    func register(on router: APIRouter) {
        let store = services.store
        router.post("/jobs", "Submit a job: factors × universes × windows × frequencies, split into tasks (idempotent with idempotencyKey: the same key answers the first job with 200)",
                    body: NewJob.self,
                    example: #"{"factors": ["MOM5"], "start": "2020-01-01", "end": "2020-12-31", "universes": ["csi300"], "horizons": [1, 5], "includeDrafts": true}"#,
                    errors: [422],
                    replies: [.created(Submitted.self, "A new job"), .ok(Submitted.self, "The job submitted earlier with this idempotencyKey")]) { request, context in
            let caller = try context.require([.researcher, .reviewer], to: "submit jobs")
            let b = try await JSONIO.decode(NewJob.self, from: request, context: context)
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
        router.list("/jobs", "List jobs, newest first (filters: status, since)", of: JobRecord.self,
                    query: [.choice("status", WorkStatus.allCases.map(\.rawValue) + WorkStatus.allCases.map { $0.rawValue.lowercased() }, "only jobs in this state"),
                            .date("since", "only jobs created on or after this date")],
                    cursorKey: \.id) { request, context in
            try context.require([.researcher, .reviewer], to: "read jobs")
            let q = request.uri.queryParameters
            let jobs = try store.jobs(status: q["status"].flatMap { WorkStatus(rawValue: String($0).uppercased()) })
            guard let since = q["since"].map(String.init) else { return jobs }
            return jobs.filter { $0.createdAt >= since }
        }
        router.get("/jobs/:id", "A job with its tasks, Top-N (top, default 10) and factor failures",
                   query: [.integer("top", 1...1000, "how many of the best results (default 10)")], replies: [.ok(JobDetail.self)]) { request, context in
            try context.require([.researcher, .reviewer], to: "read jobs")
            let top = request.uri.queryParameters["top"].flatMap { Int($0) } ?? 10
            let id = try context.parameters.require("id")
            guard let job = try store.job(id: id) else { throw StoreError.unknownJob(id) }
            let failures = try JobSummary.failures(job: job, store: store)
            return try JSONIO.response(JobDetail(job: job, tasks: try store.tasks(jobId: id), top: try JobSummary.top(top, job: job, store: store),
                                                 failures: failures))
        }
        router.get("/jobs/:id/summary.csv", "The job's stored summary: every result of its run as CSV (404 until its last task ends)",
                   replies: [Reply(status: 200, content: .text("text/csv"), help: "The summary")]) { _, context in
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
        router.post("/jobs/:id/cancel", "Cancel what has not started", replies: [.ok(JobRecord.self)]) { _, context in
            let caller = try context.require([.researcher, .reviewer], to: "cancel jobs")
            return try JSONIO.response(try store.cancelJob(id: try context.parameters.require("id"), actor: caller.name))
        }
        router.post("/jobs/:id/retry", "Queue the failed tasks again", replies: [.ok(JobRecord.self)]) { _, context in
            let caller = try context.require([.researcher, .reviewer], to: "retry jobs")
            return try JSONIO.response(try store.retryJob(id: try context.parameters.require("id"), actor: caller.name))
        }
        // Worker protocol.
        router.post("/jobs/dequeue", "Lease the next task (worker)", roles: "worker", body: LeaseBody.self,
                    example: #"{"worker": "host-1", "leaseSeconds": 60}"#,
                    replies: [.ok(LeaseReply.self, "A leased task"), Reply(status: 204, content: .none, help: "Nothing to run now")]) { request, context in
            let caller = try context.require([.worker], to: "lease tasks")
            let body = try await JSONIO.decode(LeaseBody.self, from: request, context: context)
            let seconds = min(3600, max(1, body.leaseSeconds ?? 60))
            JobFinisher.failLostTasks(store: store)
            guard let lease = try store.leaseTask(owner: "\(caller.name):\(body.worker)", seconds: seconds, now: Date().timeIntervalSince1970) else {
                return Response(status: .noContent)
            }
            let payload = try JSONDecoder().decode(TaskPayload.self, from: Data(lease.task.payload.utf8))
            return try JSONIO.response(LeaseReply(task: lease.task, job: lease.job, payload: payload, leaseSeconds: seconds))
        }
        router.post("/tasks/:id/lease", "Lease one given task (worker; run-task --server); 409 names its state when it is not runnable",
                    roles: "worker", body: LeaseBody.self, example: #"{"worker": "host-1"}"#, replies: [.ok(LeaseReply.self)]) { request, context in
            let caller = try context.require([.worker], to: "lease tasks")
            let body = try await JSONIO.decode(LeaseBody.self, from: request, context: context)
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
        router.post("/tasks/:id/release", "Give a lease back without counting the attempt (worker stopping)", roles: "worker",
                    body: ReleaseBody.self, example: #"{"worker": "host-1"}"#, replies: [.ok(TaskRecord.self)]) { request, context in
            let caller = try context.require([.worker], to: "release leases")
            let body = try await JSONIO.decode(ReleaseBody.self, from: request, context: context)
            let id = try context.parameters.require("id")
            guard try store.task(id: id) != nil else { throw StoreError.unknownTask(id) }
            try store.releaseTask(taskId: id, owner: "\(caller.name):\(body.worker)")
            return try JSONIO.response(try store.task(id: id))
        }
        router.post("/tasks/:id/heartbeat", "Renew a lease (worker)", roles: "worker", body: HeartbeatBody.self,
                    example: #"{"worker": "host-1", "leaseSeconds": 60}"#, replies: [.ok(Renewed.self)]) { request, context in
            let caller = try context.require([.worker], to: "renew leases")
            let body = try await JSONIO.decode(HeartbeatBody.self, from: request, context: context)
            let id = try context.parameters.require("id")
            let renewed = try store.renewLease(taskId: id, owner: "\(caller.name):\(body.worker)", seconds: min(3600, max(1, body.leaseSeconds ?? 60)),
                                               now: Date().timeIntervalSince1970)
            guard renewed else { throw APIError(.conflict, "task \(id) is not leased by \(body.worker) any more") }
            return try JSONIO.response(Renewed(renewed: true))
        }
        router.post("/tasks/:id/complete", "Complete a task with results or an error (worker)", roles: "worker", body: Completion.self,
                    example: #"{"worker": "host-1", "error": "out of memory", "retryable": true}"#, replies: [.ok(TaskRecord.self)]) { request, context in
            let caller = try context.require([.worker], to: "complete tasks")
            let body = try await JSONIO.decode(Completion.self, from: request, context: context)
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

/// States of jobs and tasks.
public enum WorkStatus: String, Codable, Sendable, CaseIterable {
    case pending = "PENDING"
    case running = "RUNNING"
    case success = "SUCCESS"
    case failed = "FAILED"
    case cancelled = "CANCELLED"

    public var isTerminal: Bool { self == .success || self == .failed || self == .cancelled }
}

/// A job: factors × universes × windows × frequencies, split into tasks; its results live under `runId`.
public struct JobRecord: Codable, Sendable, Equatable {
    public var id: String
    public var runId: String
    public var idempotencyKey: String?
    public var status: WorkStatus
    public var priority: Int
    public var maxAttempts: Int
    /// The job's parameters as JSON (what was asked, for display and re-planning).
    public var parameters: String
    /// When the job's summary (CSV and Top-N) was stored; nil until its last task ended.
    public var summaryAt: String?
    public var error: String?
    public var createdAt: String
    public var updatedAt: String

    public init(id: String, runId: String, idempotencyKey: String?, status: WorkStatus, priority: Int, maxAttempts: Int,
                parameters: String, summaryAt: String? = nil, error: String? = nil, createdAt: String, updatedAt: String) {
        self.id = id
        self.runId = runId
        self.idempotencyKey = idempotencyKey
        self.status = status
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.parameters = parameters
        self.summaryAt = summaryAt
        self.error = error
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One unit of work: a factor batch on one universe, window and frequency.
public struct TaskRecord: Codable, Sendable, Equatable {
    public var id: String
    public var jobId: String
    public var status: WorkStatus
    public var attempts: Int
    public var leaseOwner: String?
    /// Seconds since 1970 when the lease lapses.
    public var leaseExpiresAt: Double?
    /// Seconds since 1970 before which a retried task is not leased (backoff).
    public var notBefore: Double?
    /// The task's work as JSON.
    public var payload: String
    public var error: String?
    public var startedAt: String?
    public var finishedAt: String?
    public var createdAt: String
    public var updatedAt: String

    public init(id: String, jobId: String, status: WorkStatus, attempts: Int = 0, leaseOwner: String? = nil,
                leaseExpiresAt: Double? = nil, notBefore: Double? = nil, payload: String, error: String? = nil,
                startedAt: String? = nil, finishedAt: String? = nil, createdAt: String, updatedAt: String) {
        self.id = id
        self.jobId = jobId
        self.status = status
        self.attempts = attempts
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.notBefore = notBefore
        self.payload = payload
        self.error = error
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A leased task with the job settings a worker needs.
public struct Lease: Sendable, Equatable {
    public var task: TaskRecord
    public var job: JobRecord
}

/// What is stored when a job ends: every result of its run as CSV, and its best results by Rank ICIR.
public struct JobSummaryRecord: Codable, Sendable, Equatable {
    public var jobId: String
    public var csv: String
    public var top: [ResultRecord]
    public var createdAt: String

    public init(jobId: String, csv: String, top: [ResultRecord], createdAt: String) {
        self.jobId = jobId
        self.csv = csv
        self.top = top
        self.createdAt = createdAt
    }
}

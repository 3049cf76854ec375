/// An event in the stored log the live stream (`GET /events`) serves: every webhook event, plus job submissions,
/// task ends (with the job's progress) and cancellations. Ids increase in commit order on SQLite; on PostgreSQL a
/// reader holds back ids after a gap until the gap's transaction has had time to commit (`EventLogReader`).
public struct StreamEvent: Codable, Sendable, Equatable {
    public var id: Int64
    /// `job.submitted`, `task.finished`, `task.retrying`, `job.cancelled`, or a webhook event's name.
    public var kind: String
    public var jobId: String?
    /// The same JSON envelope webhooks get: `{"id", "event", "at", "data"}`.
    public var body: String
    public var createdAt: String

    public init(id: Int64, kind: String, jobId: String?, body: String, createdAt: String) {
        self.id = id
        self.kind = kind
        self.jobId = jobId
        self.body = body
        self.createdAt = createdAt
    }
}

/// Kinds of stream-only events (webhook events keep their `WebhookEvent` names).
public enum StreamEventKind {
    public static let jobSubmitted = "job.submitted"
    public static let taskFinished = "task.finished"
    public static let taskRetrying = "task.retrying"
    public static let jobCancelled = "job.cancelled"
    /// A job's status changed when its last task ended (SUCCESS, FAILED, CANCELLED): `{"job","status","error"}`; the
    /// `job.succeeded`/`job.failed` events follow with the summary.
    public static let jobStatus = "job.status"
}

/// The `data` of a task event: the task, how it ended, and its job's progress after it.
public struct TaskEventPayload: Codable, Sendable, Equatable {
    public var task: String
    public var job: String
    public var status: String
    public var attempts: Int
    public var error: String?
    /// Tasks of the job that have ended (succeeded, failed or cancelled), failed, and in all.
    public var done: Int
    public var failed: Int
    public var total: Int
}

/// The stored event log.
public protocol EventLog: Sendable {
    /// Events with `after < id <= upTo` (of one job when `jobId` is given), oldest first, at most `limit`.
    func events(after: Int64, upTo: Int64?, jobId: String?, limit: Int) throws -> [StreamEvent]
    /// The newest event's id (0 when there is none).
    func latestEventId() throws -> Int64
}

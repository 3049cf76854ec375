/// The persistent work queue: jobs, their tasks, and leases on tasks. Every method is one transaction.
public protocol JobQueue: Sendable {
    /// Writes a job and its tasks; with an idempotency key already seen, writes nothing and returns that job.
    func createJob(_ job: JobRecord, tasks: [TaskRecord], actor: String) throws -> (job: JobRecord, created: Bool)
    /// Leases the next runnable task (pending and past its backoff, or running with an expired lease and attempts
    /// left), highest job priority first: marks it running for `owner` until `now + seconds` and counts the attempt.
    ///
    /// `now` is the caller's clock, which is the database's for SQLite on one host; a store shared by hosts
    /// (PostgreSQL) times leases and backoffs by its own clock and ignores it.
    func leaseTask(owner: String, seconds: Double, now: Double) throws -> Lease?
    /// Leases one given task (for `run-task`), if it is runnable.
    func leaseTask(id: String, owner: String, seconds: Double, now: Double) throws -> Lease?
    /// Fails the tasks whose lease expired on their last attempt ("worker lost N times": a worker killed by OOM or a
    /// segfault on every attempt must not cycle forever); returns the ids of their jobs, each once, to be finished.
    func failLostTasks(now: Double) throws -> [String]
    /// Extends a lease; false when the task is no longer leased by `owner` (it expired and moved on).
    func renewLease(taskId: String, owner: String, seconds: Double, now: Double) throws -> Bool
    /// Saves the task's results and marks it done, if `owner` still holds it; returns whether it did.
    func completeTask(taskId: String, owner: String, run: RunRecord,
                      results: [(result: ResultRecord, series: [ResultSeriesRow])], now: Double) throws -> Bool
    /// Records a failure: back to pending with a backoff while attempts remain (and `retryable`), else failed.
    func failTask(taskId: String, owner: String, error: String, retryable: Bool, backoff: Double, now: Double) throws
    /// Gives a lease back without counting the attempt (a worker stopping cleanly).
    func releaseTask(taskId: String, owner: String) throws
    /// Cancels what has not started; running tasks finish.
    func cancelJob(id: String, actor: String) throws -> JobRecord
    /// Puts failed tasks back in the queue with fresh attempts.
    func retryJob(id: String, actor: String) throws -> JobRecord
    /// Sets a job's status (and error) once its tasks are all terminal; returns the job when this call finished it
    /// (so exactly one caller builds the summary).
    func finishJobIfDone(id: String) throws -> JobRecord?
    /// Stores the job's summary (replacing an earlier one: a retried job is summarised again).
    func saveJobSummary(_ summary: JobSummaryRecord) throws
    func jobSummary(id: String) throws -> JobSummaryRecord?
    func job(id: String) throws -> JobRecord?
    func jobs(status: WorkStatus?) throws -> [JobRecord]
    func tasks(jobId: String) throws -> [TaskRecord]
    func task(id: String) throws -> TaskRecord?
    /// Tasks still pending or running, in any job.
    func openTaskCount() throws -> Int
    /// Task counts by status, attempts beyond the first (retries), and results stored since `since` (ISO time).
    func queueStatistics(resultsSince since: String) throws -> QueueStatistics
    /// The most recently finished successful tasks of every job (for duration baselines).
    func recentFinishedTasks(limit: Int) throws -> [TaskRecord]
}

/// Counts for monitoring.
public struct QueueStatistics: Sendable, Equatable {
    public var byStatus: [WorkStatus: Int]
    public var retries: Int
    public var recentResults: Int
}

import Foundation
import GRDB

extension SQLiteFactorStore: JobQueue {
    public func createJob(_ job: JobRecord, tasks: [TaskRecord], actor: String) throws -> (job: JobRecord, created: Bool) {
        try write { db in
            if let key = job.idempotencyKey,
               let existing = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE idempotency_key = ?", arguments: [key]) {
                return (Self.jobFrom(existing), false)
            }
            try db.execute(sql: """
                INSERT INTO jobs (id, run_id, idempotency_key, status, priority, max_attempts, parameters, error, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [job.id, job.runId, job.idempotencyKey, job.status.rawValue, job.priority, job.maxAttempts,
                                 job.parameters, job.error, job.createdAt, job.updatedAt])
            let statement = try db.makeStatement(sql: """
                INSERT INTO tasks (id, job_id, status, attempts, payload, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?)
                """)
            for t in tasks {
                try statement.execute(arguments: [t.id, t.jobId, t.status.rawValue, t.payload, t.createdAt, t.updatedAt])
            }
            try appendAuditRow(db, actor: actor, action: "submit-job", entity: job.id, before: nil,
                               after: "{\"run_id\":\"\(job.runId)\",\"tasks\":\(tasks.count)}")
            try appendEvent(db, kind: StreamEventKind.jobSubmitted, jobId: job.id,
                            payload: "{\"job\":\(JSON.encode(job.id)),\"run\":\(JSON.encode(job.runId)),\"tasks\":\(tasks.count),\"by\":\(JSON.encode(actor))}")
            return (job, true)
        }
    }

    public func leaseTask(owner: String, seconds: Double, now: Double) throws -> Lease? {
        try write { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT t.* FROM tasks t JOIN jobs j ON j.id = t.job_id
                WHERE (t.status = 'PENDING' AND (t.not_before IS NULL OR t.not_before <= ?))
                   OR (t.status = 'RUNNING' AND t.lease_expires_at < ? AND t.attempts < j.max_attempts)
                ORDER BY j.priority DESC, j.created_at, t.created_at, t.id LIMIT 1
                """, arguments: [now, now])
            guard let row else { return nil }
            return try takeLease(db, Self.taskFrom(row), owner: owner, seconds: seconds, now: now)
        }
    }

    public func leaseTask(id: String, owner: String, seconds: Double, now: Double) throws -> Lease? {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM tasks WHERE id = ?", arguments: [id]),
                  let maxAttempts = try Int.fetchOne(db, sql: "SELECT max_attempts FROM jobs WHERE id = ?", arguments: [row["job_id"] as String])
            else { return nil }
            let task = Self.taskFrom(row)
            let runnable = task.status == .pending
                || (task.status == .running && (task.leaseExpiresAt ?? 0) < now && task.attempts < maxAttempts)
            return runnable ? try takeLease(db, task, owner: owner, seconds: seconds, now: now) : nil
        }
    }

    private func takeLease(_ db: Database, _ task: TaskRecord, owner: String, seconds: Double, now: Double) throws -> Lease {
        var t = task
        t.status = .running
        t.leaseOwner = owner
        t.leaseExpiresAt = now + seconds
        t.attempts += 1
        t.startedAt = Clock.now()
        t.updatedAt = t.startedAt!
        try db.execute(sql: """
            UPDATE tasks SET status = 'RUNNING', lease_owner = ?, lease_expires_at = ?, attempts = ?, started_at = ?, updated_at = ?
            WHERE id = ?
            """, arguments: [owner, t.leaseExpiresAt, t.attempts, t.startedAt, t.updatedAt, t.id])
        try db.execute(sql: "UPDATE jobs SET status = 'RUNNING', updated_at = ? WHERE id = ? AND status = 'PENDING'",
                       arguments: [t.updatedAt, t.jobId])
        guard let job = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [t.jobId]).map(Self.jobFrom) else {
            throw StoreError.database("task \(t.id) has no job")
        }
        return Lease(task: t, job: job)
    }

    public func failLostTasks(now: Double) throws -> [String] {
        try write { db in
            let lost = try Row.fetchAll(db, sql: """
                SELECT t.id, t.job_id FROM tasks t JOIN jobs j ON j.id = t.job_id
                WHERE t.status = 'RUNNING' AND t.lease_expires_at < ? AND t.attempts >= j.max_attempts
                """, arguments: [now])
            for row in lost {
                try db.execute(sql: """
                    UPDATE tasks SET status = 'FAILED',
                        error = 'worker lost ' || attempts || ' times: the lease of ' || COALESCE(lease_owner, 'a worker')
                                || ' expired on every attempt (killed, out of memory or cut off)',
                        lease_owner = NULL, lease_expires_at = NULL, finished_at = ?, updated_at = ?
                    WHERE id = ?
                    """, arguments: [Clock.now(), Clock.now(), row["id"] as String])
                try appendTaskEvent(db, taskId: row["id"], kind: StreamEventKind.taskFinished)
            }
            var seen = Set<String>()
            return lost.map { $0["job_id"] as String }.filter { seen.insert($0).inserted }
        }
    }

    public func renewLease(taskId: String, owner: String, seconds: Double, now: Double) throws -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE tasks SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND status = 'RUNNING'",
                           arguments: [now + seconds, taskId, owner])
            return db.changesCount == 1
        }
    }

    public func completeTask(taskId: String, owner: String, run: RunRecord,
                             results: [(result: ResultRecord, series: [ResultSeriesRow])], now: Double) throws -> Bool {
        try write { db in
            // Results are keyed by run id: a task that ran twice (a retry after a crash) replaces, never duplicates.
            try db.execute(sql: "UPDATE tasks SET status = 'SUCCESS', error = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = ?, updated_at = ? WHERE id = ? AND lease_owner = ? AND status = 'RUNNING'",
                           arguments: [Clock.now(), Clock.now(), taskId, owner])
            guard db.changesCount == 1 else { return false }
            try saveResultRows(db, run: run, results: results)
            try appendTaskEvent(db, taskId: taskId, kind: StreamEventKind.taskFinished)
            return true
        }
    }

    public func failTask(taskId: String, owner: String, error: String, retryable: Bool, backoff: Double, now: Double) throws {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT t.attempts, j.max_attempts FROM tasks t JOIN jobs j ON j.id = t.job_id
                WHERE t.id = ? AND t.lease_owner = ? AND t.status = 'RUNNING'
                """, arguments: [taskId, owner]) else { return }
            let attempts: Int = row["attempts"], maxAttempts: Int = row["max_attempts"]
            if retryable && attempts < maxAttempts {
                try db.execute(sql: "UPDATE tasks SET status = 'PENDING', error = ?, lease_owner = NULL, lease_expires_at = NULL, not_before = ?, updated_at = ? WHERE id = ?",
                               arguments: [error, now + backoff, Clock.now(), taskId])
                try appendTaskEvent(db, taskId: taskId, kind: StreamEventKind.taskRetrying)
            } else {
                try db.execute(sql: "UPDATE tasks SET status = 'FAILED', error = ?, lease_owner = NULL, lease_expires_at = NULL, finished_at = ?, updated_at = ? WHERE id = ?",
                               arguments: [error, Clock.now(), Clock.now(), taskId])
                try appendTaskEvent(db, taskId: taskId, kind: StreamEventKind.taskFinished)
            }
        }
    }

    public func releaseTask(taskId: String, owner: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE tasks SET status = 'PENDING', attempts = MAX(0, attempts - 1), lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ? AND lease_owner = ? AND status = 'RUNNING'",
                           arguments: [Clock.now(), taskId, owner])
        }
    }

    public func cancelJob(id: String, actor: String) throws -> JobRecord {
        try write { db in
            guard let job = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.jobFrom) else {
                throw StoreError.unknownJob(id)
            }
            try db.execute(sql: "UPDATE tasks SET status = 'CANCELLED', finished_at = ?, updated_at = ? WHERE job_id = ? AND status = 'PENDING'",
                           arguments: [Clock.now(), Clock.now(), id])
            if !job.status.isTerminal {
                let running = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks WHERE job_id = ? AND status = 'RUNNING'", arguments: [id]) ?? 0
                if running == 0 {
                    try db.execute(sql: "UPDATE jobs SET status = 'CANCELLED', updated_at = ? WHERE id = ?", arguments: [Clock.now(), id])
                }
            }
            try appendAuditRow(db, actor: actor, action: "cancel-job", entity: id, before: job.status.rawValue, after: nil)
            try appendEvent(db, kind: StreamEventKind.jobCancelled, jobId: id, payload: "{\"job\":\(JSON.encode(id)),\"by\":\(JSON.encode(actor))}")
            return try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.jobFrom) ?? job
        }
    }

    public func retryJob(id: String, actor: String) throws -> JobRecord {
        try write { db in
            guard try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]) != nil else { throw StoreError.unknownJob(id) }
            try db.execute(sql: "UPDATE tasks SET status = 'PENDING', attempts = 0, error = NULL, not_before = NULL, finished_at = NULL, updated_at = ? WHERE job_id = ? AND status = 'FAILED'",
                           arguments: [Clock.now(), id])
            if db.changesCount > 0 {
                // The old summary described the failed run; the job gets a new one when it ends again.
                try db.execute(sql: "UPDATE jobs SET status = 'PENDING', error = NULL, summary_csv = NULL, summary_top = NULL, summary_at = NULL, updated_at = ? WHERE id = ?",
                               arguments: [Clock.now(), id])
            }
            try appendAuditRow(db, actor: actor, action: "retry-job", entity: id, before: nil, after: nil)
            return try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.jobFrom)!
        }
    }

    public func finishJobIfDone(id: String) throws -> JobRecord? {
        try write { db in
            // A finished job without a summary (its finisher died in between) is returned again, to be summarised.
            guard var job = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.jobFrom),
                  !job.status.isTerminal || job.status == .cancelled || job.summaryAt == nil else { return nil }
            let counts = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM tasks WHERE job_id = ? GROUP BY status",
                                                                            arguments: [id]).map { (($0["status"] as String), ($0["n"] as Int)) })
            let open = (counts["PENDING"] ?? 0) + (counts["RUNNING"] ?? 0)
            guard open == 0 else { return nil }
            let failed = counts["FAILED"] ?? 0, cancelled = counts["CANCELLED"] ?? 0
            let status: WorkStatus = cancelled > 0 && job.status == .cancelled ? .cancelled : (cancelled > 0 ? .cancelled : (failed > 0 ? .failed : .success))
            if job.status == status && job.summaryAt != nil { return nil }
            let changed = job.status != status
            job.status = status
            job.error = failed > 0 ? "\(failed) of \(counts.values.reduce(0, +)) tasks failed" : nil
            job.updatedAt = Clock.now()
            try db.execute(sql: "UPDATE jobs SET status = ?, error = ?, updated_at = ? WHERE id = ?",
                           arguments: [status.rawValue, job.error, job.updatedAt, id])
            if changed {
                try appendEvent(db, kind: StreamEventKind.jobStatus, jobId: id,
                                payload: "{\"job\":\(JSON.encode(id)),\"status\":\(JSON.encode(status.rawValue)),\"error\":\(JSON.encode(job.error))}")
            }
            return job
        }
    }

    public func saveJobSummary(_ summary: JobSummaryRecord) throws {
        try write { db in
            guard let job = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [summary.jobId]).map(Self.jobFrom) else {
                throw StoreError.unknownJob(summary.jobId)
            }
            try db.execute(sql: "UPDATE jobs SET summary_csv = ?, summary_top = ?, summary_at = ? WHERE id = ?",
                           arguments: [summary.csv, JSON.encode(summary.top), summary.createdAt, summary.jobId])
            // The job's event goes out with its first summary (so it carries the Top-N), in the same transaction.
            if job.summaryAt == nil, job.status == .success || job.status == .failed {
                var summarised = job
                summarised.summaryAt = summary.createdAt
                let counts = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COUNT(error) AS failed FROM results WHERE run_id = ?", arguments: [job.runId])
                let payload = JobEventPayload(job: summarised, summary: summary, results: counts?["n"] ?? 0, failedResults: counts?["failed"] ?? 0)
                try enqueueEvent(db, job.status == .success ? .jobSucceeded : .jobFailed, payload: JSON.encode(payload),
                                 scope: try jobScope(db, jobId: job.id), jobId: job.id)
            }
        }
    }

    public func jobSummary(id: String) throws -> JobSummaryRecord? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT summary_csv, summary_top, summary_at FROM jobs WHERE id = ? AND summary_at IS NOT NULL",
                                             arguments: [id]) else { return nil }
            return JobSummaryRecord(jobId: id, csv: row["summary_csv"] ?? "", top: JSON.decode([ResultRecord].self, row["summary_top"]) ?? [],
                                    createdAt: row["summary_at"])
        }
    }

    public func job(id: String) throws -> JobRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.jobFrom) }
    }

    public func jobs(status: WorkStatus?) throws -> [JobRecord] {
        try read { db in
            try (status.map { try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE status = ? ORDER BY created_at", arguments: [$0.rawValue]) }
                ?? Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY created_at")).map(Self.jobFrom)
        }
    }

    public func tasks(jobId: String) throws -> [TaskRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM tasks WHERE job_id = ? ORDER BY created_at, id", arguments: [jobId]).map(Self.taskFrom) }
    }

    public func task(id: String) throws -> TaskRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM tasks WHERE id = ?", arguments: [id]).map(Self.taskFrom) }
    }

    public func queueStatistics(resultsSince since: String) throws -> QueueStatistics {
        try read { db in
            var byStatus: [WorkStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM tasks GROUP BY status") {
                if let s = WorkStatus(rawValue: row["status"]) { byStatus[s] = row["n"] }
            }
            let retries = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(attempts - 1), 0) FROM tasks WHERE attempts > 1") ?? 0
            let recent = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results WHERE created_at >= ?", arguments: [since]) ?? 0
            return QueueStatistics(byStatus: byStatus, retries: retries, recentResults: recent)
        }
    }

    public func recentFinishedTasks(limit: Int) throws -> [TaskRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tasks WHERE status = 'SUCCESS' AND started_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?",
                             arguments: [limit]).map(Self.taskFrom)
        }
    }

    public func openTaskCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks WHERE status IN ('PENDING', 'RUNNING')") ?? 0 }
    }

    static func jobFrom(_ row: Row) -> JobRecord {
        JobRecord(id: row["id"], runId: row["run_id"], idempotencyKey: row["idempotency_key"],
                  status: WorkStatus(rawValue: row["status"]) ?? .pending, priority: row["priority"], maxAttempts: row["max_attempts"],
                  parameters: row["parameters"], summaryAt: row["summary_at"], error: row["error"],
                  createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    static func taskFrom(_ row: Row) -> TaskRecord {
        TaskRecord(id: row["id"], jobId: row["job_id"], status: WorkStatus(rawValue: row["status"]) ?? .pending,
                   attempts: row["attempts"], leaseOwner: row["lease_owner"], leaseExpiresAt: row["lease_expires_at"],
                   notBefore: row["not_before"], payload: row["payload"], error: row["error"], startedAt: row["started_at"],
                   finishedAt: row["finished_at"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }
}

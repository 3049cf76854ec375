import Foundation
import PostgresNIO

/// The queue on PostgreSQL: a lease is one transaction that picks its row with `FOR UPDATE SKIP LOCKED` (so
/// workers never wait on, or both take, the same task) and times it by the database's clock. The `now` the
/// protocol passes is the caller's clock and is not used here: hosts' clocks disagree, the database's is one.
extension PostgresFactorStore: JobQueue {
    private static let now = PostgresFactorStore.databaseNow

    public func createJob(_ job: JobRecord, tasks: [TaskRecord], actor: String) throws -> (job: JobRecord, created: Bool) {
        try write { s in
            if let key = job.idempotencyKey, let existing = try await s.one("SELECT * FROM jobs WHERE idempotency_key = $1", [key]) {
                return (try Self.jobFrom(existing), false)
            }
            // A concurrent submission with the same key: the loser reads the winner's job.
            let inserted = try await s.rows("""
                INSERT INTO jobs (id, run_id, idempotency_key, status, priority, max_attempts, parameters, error, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
                """, [job.id, job.runId, job.idempotencyKey, job.status.rawValue, job.priority, job.maxAttempts,
                      job.parameters, job.error, job.createdAt, job.updatedAt])
            if inserted.isEmpty, let key = job.idempotencyKey,
               let existing = try await s.one("SELECT * FROM jobs WHERE idempotency_key = $1", [key]) {
                return (try Self.jobFrom(existing), false)
            }
            // 8 parameters a row; a statement takes at most 65,535.
            let rowsPerStatement = 800
            for chunk in stride(from: 0, to: tasks.count, by: rowsPerStatement).map({ Array(tasks[$0..<min(tasks.count, $0 + rowsPerStatement)]) }) {
                var arguments: [any PostgresBindable] = []
                var tuples: [String] = []
                for (i, t) in chunk.enumerated() {
                    tuples.append("(" + (1...8).map { "$\(i * 8 + $0)" }.joined(separator: ", ") + ", 0)")
                    arguments += [t.id, t.jobId, t.status.rawValue, t.payload, t.createdAt, t.updatedAt, job.priority, job.createdAt]
                }
                try await s.execute("""
                    INSERT INTO tasks (id, job_id, status, payload, created_at, updated_at, priority, job_created_at, attempts)
                    VALUES \(tuples.joined(separator: ", "))
                    """, arguments)
            }
            try await self.appendAudit(s, actor: actor, action: "submit-job", entity: job.id, before: nil,
                                       after: "{\"run_id\":\"\(job.runId)\",\"tasks\":\(tasks.count)}")
            try await self.appendEvent(s, kind: StreamEventKind.jobSubmitted, jobId: job.id,
                                       payload: "{\"job\":\(JSON.encode(job.id)),\"run\":\(JSON.encode(job.runId)),\"tasks\":\(tasks.count),\"by\":\(JSON.encode(actor))}")
            return (job, true)
        }
    }

    public func leaseTask(owner: String, seconds: Double, now: Double) throws -> Lease? {
        // One statement, so one round trip and its own transaction: pick the first task in queue order among the
        // expired leases and the pending tasks (each walking its partial index, skipping rows other workers are
        // locking), lease it, and mark the job running. The final SELECT reads the snapshot before the job's UPDATE,
        // hence the fix-up.
        let stamp = Clock.now()
        return try read { s in
            guard let row = try await s.one("""
                WITH expired AS (
                    SELECT t.id, t.priority, t.job_created_at, t.created_at FROM tasks t JOIN jobs j ON j.id = t.job_id
                    WHERE t.status = 'RUNNING' AND t.lease_expires_at < \(Self.now) AND t.attempts < j.max_attempts
                    ORDER BY t.priority DESC, t.job_created_at COLLATE "C", t.created_at COLLATE "C", t.id COLLATE "C" LIMIT 1
                    FOR UPDATE OF t SKIP LOCKED),
                pending AS (
                    SELECT t.id, t.priority, t.job_created_at, t.created_at FROM tasks t
                    WHERE t.status = 'PENDING' AND (t.not_before IS NULL OR t.not_before <= \(Self.now))
                    ORDER BY t.priority DESC, t.job_created_at COLLATE "C", t.created_at COLLATE "C", t.id COLLATE "C" LIMIT 1
                    FOR UPDATE OF t SKIP LOCKED),
                next AS (
                    SELECT id FROM (SELECT * FROM expired UNION ALL SELECT * FROM pending) AS candidates
                    ORDER BY priority DESC, job_created_at COLLATE "C", created_at COLLATE "C", id COLLATE "C" LIMIT 1),
                leased AS (
                    UPDATE tasks SET status = 'RUNNING', lease_owner = $1, lease_expires_at = \(Self.now) + $2,
                                     attempts = attempts + 1, started_at = $3, updated_at = $3
                    FROM next WHERE tasks.id = next.id RETURNING tasks.*),
                started AS (
                    UPDATE jobs SET status = 'RUNNING', updated_at = $3
                    WHERE id = (SELECT job_id FROM leased) AND status = 'PENDING' RETURNING id)
                SELECT leased.*, j.run_id AS j_run_id, j.idempotency_key AS j_idempotency_key, j.status AS j_status,
                       j.priority AS j_priority, j.max_attempts AS j_max_attempts, j.parameters AS j_parameters,
                       j.summary_at AS j_summary_at, j.error AS j_error, j.created_at AS j_created_at, j.updated_at AS j_updated_at,
                       (SELECT COUNT(*) FROM started) AS j_started
                FROM leased JOIN jobs j ON j.id = leased.job_id
                """, [owner, seconds, stamp]) else { return nil }
            let task = try Self.taskFrom(row)
            var job = JobRecord(id: task.jobId, runId: try row.get("j_run_id"), idempotencyKey: try row.optional("j_idempotency_key"),
                                status: WorkStatus(rawValue: try row.get("j_status")) ?? .pending, priority: try row.get("j_priority"),
                                maxAttempts: try row.get("j_max_attempts"), parameters: try row.get("j_parameters"),
                                summaryAt: try row.optional("j_summary_at"), error: try row.optional("j_error"),
                                createdAt: try row.get("j_created_at"), updatedAt: try row.get("j_updated_at"))
            if try row.get("j_started", Int.self) > 0 { job.status = .running; job.updatedAt = stamp }
            return Lease(task: task, job: job)
        }
    }

    public func leaseTask(id: String, owner: String, seconds: Double, now: Double) throws -> Lease? {
        try write { s in
            guard try await s.one("""
                SELECT t.id FROM tasks t JOIN jobs j ON j.id = t.job_id
                WHERE t.id = $1 AND (t.status = 'PENDING'
                   OR (t.status = 'RUNNING' AND t.lease_expires_at < \(Self.now) AND t.attempts < j.max_attempts))
                FOR UPDATE OF t
                """, [id]) != nil else { return nil }
            return try await self.takeLease(s, taskId: id, owner: owner, seconds: seconds)
        }
    }

    /// Marks a locked, runnable task running for `owner` and counts the attempt (inside the caller's transaction).
    private func takeLease(_ s: PostgresSession, taskId: String, owner: String, seconds: Double) async throws -> Lease {
        let stamp = Clock.now()
        guard let row = try await s.one("""
            UPDATE tasks SET status = 'RUNNING', lease_owner = $1, lease_expires_at = \(Self.now) + $2, attempts = attempts + 1,
                             started_at = $3, updated_at = $3
            WHERE id = $4 RETURNING *
            """, [owner, seconds, stamp, taskId]) else { throw StoreError.unknownTask(taskId) }
        let task = try Self.taskFrom(row)
        try await s.execute("UPDATE jobs SET status = 'RUNNING', updated_at = $1 WHERE id = $2 AND status = 'PENDING'", [stamp, task.jobId])
        guard let job = try await s.one("SELECT * FROM jobs WHERE id = $1", [task.jobId]) else {
            throw StoreError.database("task \(task.id) has no job")
        }
        return Lease(task: task, job: try Self.jobFrom(job))
    }

    public func failLostTasks(now: Double) throws -> [String] {
        try write { s in
            let stamp = Clock.now()
            let lost = try await s.rows("""
                UPDATE tasks t SET status = 'FAILED',
                    error = 'worker lost ' || t.attempts || ' times: the lease of ' || COALESCE(t.lease_owner, 'a worker')
                            || ' expired on every attempt (killed, out of memory or cut off)',
                    lease_owner = NULL, lease_expires_at = NULL, finished_at = $1, updated_at = $1
                WHERE t.id IN (
                    SELECT t2.id FROM tasks t2 JOIN jobs j ON j.id = t2.job_id
                    WHERE t2.status = 'RUNNING' AND t2.lease_expires_at < \(Self.now) AND t2.attempts >= j.max_attempts
                    FOR UPDATE OF t2 SKIP LOCKED)
                RETURNING t.id, t.job_id
                """, [stamp]).map { (try $0.get("id", String.self), try $0.get("job_id", String.self)) }
            for (task, _) in lost { try await self.appendTaskEvent(s, taskId: task, kind: StreamEventKind.taskFinished) }
            return lost.map(\.1).uniqued()
        }
    }

    public func renewLease(taskId: String, owner: String, seconds: Double, now: Double) throws -> Bool {
        try write { s in
            !(try await s.rows("""
                UPDATE tasks SET lease_expires_at = \(Self.now) + $1
                WHERE id = $2 AND lease_owner = $3 AND status = 'RUNNING' RETURNING id
                """, [seconds, taskId, owner])).isEmpty
        }
    }

    public func completeTask(taskId: String, owner: String, run: RunRecord,
                             results: [(result: ResultRecord, series: [ResultSeriesRow])], now: Double) throws -> Bool {
        let results = results.map { ($0.result, $0.series) }
        return try write { s in
            // Results are keyed by run id: a task that ran twice (a retry after a crash) replaces, never duplicates.
            let stamp = Clock.now()
            let done = try await s.rows("""
                UPDATE tasks SET status = 'SUCCESS', error = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = $1, updated_at = $1
                WHERE id = $2 AND lease_owner = $3 AND status = 'RUNNING' RETURNING id
                """, [stamp, taskId, owner])
            guard !done.isEmpty else { return false }
            try await self.saveResultRows(s, run: run, results: results)
            try await self.appendTaskEvent(s, taskId: taskId, kind: StreamEventKind.taskFinished)
            return true
        }
    }

    public func failTask(taskId: String, owner: String, error: String, retryable: Bool, backoff: Double, now: Double) throws {
        try write { s in
            guard let row = try await s.one("""
                SELECT t.attempts, j.max_attempts FROM tasks t JOIN jobs j ON j.id = t.job_id
                WHERE t.id = $1 AND t.lease_owner = $2 AND t.status = 'RUNNING' FOR UPDATE OF t
                """, [taskId, owner]) else { return }
            let attempts: Int = try row.get("attempts"), maxAttempts: Int = try row.get("max_attempts")
            let stamp = Clock.now()
            if retryable && attempts < maxAttempts {
                try await s.execute("""
                    UPDATE tasks SET status = 'PENDING', error = $1, lease_owner = NULL, lease_expires_at = NULL,
                                     not_before = \(Self.now) + $2, updated_at = $3 WHERE id = $4
                    """, [error, backoff, stamp, taskId])
                try await self.appendTaskEvent(s, taskId: taskId, kind: StreamEventKind.taskRetrying)
            } else {
                try await s.execute("""
                    UPDATE tasks SET status = 'FAILED', error = $1, lease_owner = NULL, lease_expires_at = NULL, finished_at = $2, updated_at = $2
                    WHERE id = $3
                    """, [error, stamp, taskId])
                try await self.appendTaskEvent(s, taskId: taskId, kind: StreamEventKind.taskFinished)
            }
        }
    }

    public func releaseTask(taskId: String, owner: String) throws {
        try write { s in
            try await s.execute("""
                UPDATE tasks SET status = 'PENDING', attempts = GREATEST(0, attempts - 1), lease_owner = NULL, lease_expires_at = NULL, updated_at = $1
                WHERE id = $2 AND lease_owner = $3 AND status = 'RUNNING'
                """, [Clock.now(), taskId, owner])
        }
    }

    public func cancelJob(id: String, actor: String) throws -> JobRecord {
        try write { s in
            guard try await s.one("SELECT id FROM jobs WHERE id = $1", [id]) != nil else { throw StoreError.unknownJob(id) }
            // Tasks first, then the job: the order a lease takes its locks in (task, then the job it starts), so a
            // cancel racing a job's first lease waits for it instead of deadlocking with it.
            let stamp = Clock.now()
            try await s.execute("UPDATE tasks SET status = 'CANCELLED', finished_at = $1, updated_at = $1 WHERE job_id = $2 AND status = 'PENDING'",
                                [stamp, id])
            guard let job = try await s.one("SELECT * FROM jobs WHERE id = $1 FOR UPDATE", [id]).map(Self.jobFrom) else {
                throw StoreError.unknownJob(id)
            }
            if !job.status.isTerminal {
                let running = try await s.count("SELECT COUNT(*) FROM tasks WHERE job_id = $1 AND status = 'RUNNING'", [id])
                if running == 0 {
                    try await s.execute("UPDATE jobs SET status = 'CANCELLED', updated_at = $1 WHERE id = $2", [stamp, id])
                }
            }
            try await self.appendAudit(s, actor: actor, action: "cancel-job", entity: id, before: job.status.rawValue, after: nil)
            try await self.appendEvent(s, kind: StreamEventKind.jobCancelled, jobId: id, payload: "{\"job\":\(JSON.encode(id)),\"by\":\(JSON.encode(actor))}")
            return try await s.one("SELECT * FROM jobs WHERE id = $1", [id]).map(Self.jobFrom) ?? job
        }
    }

    public func retryJob(id: String, actor: String) throws -> JobRecord {
        try write { s in
            guard try await s.one("SELECT id FROM jobs WHERE id = $1 FOR UPDATE", [id]) != nil else { throw StoreError.unknownJob(id) }
            let stamp = Clock.now()
            let retried = try await s.rows("""
                UPDATE tasks SET status = 'PENDING', attempts = 0, error = NULL, not_before = NULL, finished_at = NULL, updated_at = $1
                WHERE job_id = $2 AND status = 'FAILED' RETURNING id
                """, [stamp, id])
            if !retried.isEmpty {
                // The old summary described the failed run; the job gets a new one when it ends again.
                try await s.execute("""
                    UPDATE jobs SET status = 'PENDING', error = NULL, summary_csv = NULL, summary_top = NULL, summary_at = NULL, updated_at = $1
                    WHERE id = $2
                    """, [stamp, id])
            }
            try await self.appendAudit(s, actor: actor, action: "retry-job", entity: id, before: nil, after: nil)
            guard let job = try await s.one("SELECT * FROM jobs WHERE id = $1", [id]) else { throw StoreError.unknownJob(id) }
            return try Self.jobFrom(job)
        }
    }

    public func finishJobIfDone(id: String) throws -> JobRecord? {
        try write { s in
            // The job row's lock makes the last two tasks' finishers agree on which one finished the job.
            // A finished job without a summary (its finisher died in between) is returned again, to be summarised.
            guard var job = try await s.one("SELECT * FROM jobs WHERE id = $1 FOR UPDATE", [id]).map(Self.jobFrom),
                  !job.status.isTerminal || job.status == .cancelled || job.summaryAt == nil else { return nil }
            var counts: [String: Int] = [:]
            for row in try await s.rows("SELECT status, COUNT(*) AS n FROM tasks WHERE job_id = $1 GROUP BY status", [id]) {
                counts[try row.get("status")] = try row.get("n")
            }
            let open = (counts["PENDING"] ?? 0) + (counts["RUNNING"] ?? 0)
            guard open == 0 else { return nil }
            let failed = counts["FAILED"] ?? 0, cancelled = counts["CANCELLED"] ?? 0
            let status: WorkStatus = cancelled > 0 ? .cancelled : (failed > 0 ? .failed : .success)
            if job.status == status && job.summaryAt != nil { return nil }
            let changed = job.status != status
            job.status = status
            job.error = failed > 0 ? "\(failed) of \(counts.values.reduce(0, +)) tasks failed" : nil
            job.updatedAt = Clock.now()
            try await s.execute("UPDATE jobs SET status = $1, error = $2, updated_at = $3 WHERE id = $4",
                                [status.rawValue, job.error, job.updatedAt, id])
            if changed {
                try await self.appendEvent(s, kind: StreamEventKind.jobStatus, jobId: id,
                                           payload: "{\"job\":\(JSON.encode(id)),\"status\":\(JSON.encode(status.rawValue)),\"error\":\(JSON.encode(job.error))}")
            }
            return job
        }
    }

    public func saveJobSummary(_ summary: JobSummaryRecord) throws {
        try write { s in
            guard let job = try await s.one("SELECT * FROM jobs WHERE id = $1 FOR UPDATE", [summary.jobId]).map(Self.jobFrom) else {
                throw StoreError.unknownJob(summary.jobId)
            }
            try await s.execute("UPDATE jobs SET summary_csv = $1, summary_top = $2, summary_at = $3 WHERE id = $4",
                                [summary.csv, JSON.encode(summary.top), summary.createdAt, summary.jobId])
            // The job's event goes out with its first summary (so it carries the Top-N), in the same transaction.
            if job.summaryAt == nil, job.status == .success || job.status == .failed {
                var summarised = job
                summarised.summaryAt = summary.createdAt
                let counts = try await s.one("SELECT COUNT(*) AS n, COUNT(error) AS failed FROM results WHERE run_id = $1", [job.runId])
                let payload = JobEventPayload(job: summarised, summary: summary, results: try counts?.get("n", Int.self) ?? 0,
                                              failedResults: try counts?.get("failed", Int.self) ?? 0)
                try await self.enqueueEvent(s, job.status == .success ? .jobSucceeded : .jobFailed, payload: JSON.encode(payload),
                                            scope: try await self.jobScope(s, jobId: job.id), jobId: job.id)
            }
        }
    }

    public func jobSummary(id: String) throws -> JobSummaryRecord? {
        try read { s in
            guard let row = try await s.one("SELECT summary_csv, summary_top, summary_at FROM jobs WHERE id = $1 AND summary_at IS NOT NULL", [id])
            else { return nil }
            return JobSummaryRecord(jobId: id, csv: try row.optional("summary_csv") ?? "",
                                    top: JSON.decode([ResultRecord].self, try row.optional("summary_top")) ?? [], createdAt: try row.get("summary_at"))
        }
    }

    public func job(id: String) throws -> JobRecord? {
        try read { s in try await s.one("SELECT * FROM jobs WHERE id = $1", [id]).map(Self.jobFrom) }
    }

    public func jobs(status: WorkStatus?) throws -> [JobRecord] {
        try read { s in
            let rows = if let status {
                try await s.rows("SELECT * FROM jobs WHERE status = $1 ORDER BY created_at COLLATE \"C\", id COLLATE \"C\"", [status.rawValue])
            } else {
                try await s.rows("SELECT * FROM jobs ORDER BY created_at COLLATE \"C\", id COLLATE \"C\"")
            }
            return try rows.map(Self.jobFrom)
        }
    }

    public func tasks(jobId: String) throws -> [TaskRecord] {
        try read { s in try await s.rows("SELECT * FROM tasks WHERE job_id = $1 ORDER BY created_at COLLATE \"C\", id COLLATE \"C\"", [jobId]).map(Self.taskFrom) }
    }

    public func task(id: String) throws -> TaskRecord? {
        try read { s in try await s.one("SELECT * FROM tasks WHERE id = $1", [id]).map(Self.taskFrom) }
    }

    public func queueStatistics(resultsSince since: String) throws -> QueueStatistics {
        try read { s in
            var byStatus: [WorkStatus: Int] = [:]
            for row in try await s.rows("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status") {
                if let status = WorkStatus(rawValue: try row.get("status")) { byStatus[status] = try row.get("n") }
            }
            let retries = try await s.count("SELECT COALESCE(SUM(attempts - 1), 0)::bigint FROM tasks WHERE attempts > 1")
            let recent = try await s.count("SELECT COUNT(*) FROM results WHERE created_at >= $1", [since])
            return QueueStatistics(byStatus: byStatus, retries: retries, recentResults: recent)
        }
    }

    public func recentFinishedTasks(limit: Int) throws -> [TaskRecord] {
        try read { s in
            try await s.rows("""
                SELECT * FROM tasks WHERE status = 'SUCCESS' AND started_at IS NOT NULL AND finished_at IS NOT NULL
                ORDER BY finished_at COLLATE "C" DESC LIMIT $1
                """, [limit]).map(Self.taskFrom)
        }
    }

    public func openTaskCount() throws -> Int {
        try read { s in try await s.count("SELECT COUNT(*) FROM tasks WHERE status IN ('PENDING', 'RUNNING')") }
    }

    static func jobFrom(_ row: PostgresRecord) throws -> JobRecord {
        JobRecord(id: try row.get("id"), runId: try row.get("run_id"), idempotencyKey: try row.optional("idempotency_key"),
                  status: WorkStatus(rawValue: try row.get("status")) ?? .pending, priority: try row.get("priority"),
                  maxAttempts: try row.get("max_attempts"), parameters: try row.get("parameters"),
                  summaryAt: try row.optional("summary_at"), error: try row.optional("error"),
                  createdAt: try row.get("created_at"), updatedAt: try row.get("updated_at"))
    }

    static func taskFrom(_ row: PostgresRecord) throws -> TaskRecord {
        TaskRecord(id: try row.get("id"), jobId: try row.get("job_id"), status: WorkStatus(rawValue: try row.get("status")) ?? .pending,
                   attempts: try row.get("attempts"), leaseOwner: try row.optional("lease_owner"),
                   leaseExpiresAt: try row.optional("lease_expires_at"), notBefore: try row.optional("not_before"),
                   payload: try row.get("payload"), error: try row.optional("error"), startedAt: try row.optional("started_at"),
                   finishedAt: try row.optional("finished_at"), createdAt: try row.get("created_at"), updatedAt: try row.get("updated_at"))
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

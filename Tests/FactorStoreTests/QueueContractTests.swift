import Dispatch
import FactorStore
import FactorTestSupport
import Foundation
import Testing

/// The queue's rules, on every backend, with the real clock (PostgreSQL times leases by its own clock, so the
/// tests cannot move time; they use short leases and wait them out).
@Suite("JobQueue contract")
struct QueueContractTests {
    static func now() -> Double { Date().timeIntervalSince1970 }

    static func job(_ id: String, priority: Int = 0, maxAttempts: Int = 3, key: String? = nil) -> JobRecord {
        JobRecord(id: id, runId: "run-" + id, idempotencyKey: key, status: .pending, priority: priority, maxAttempts: maxAttempts,
                  parameters: "{}", createdAt: Clock.now(), updatedAt: Clock.now())
    }

    static func tasks(_ jobId: String, _ n: Int) -> [TaskRecord] {
        (0..<n).map { TaskRecord(id: "\(jobId)-\(String(format: "%04d", $0))", jobId: jobId, status: .pending, payload: "{\"k\":\($0)}",
                                 createdAt: Clock.now(), updatedAt: Clock.now()) }
    }

    static func run(_ jobId: String) -> RunRecord { RunRecord(runId: "run-" + jobId, createdAt: Clock.now(), kind: "job", parameters: "{}") }

    @Test(arguments: Backend.available)
    func submissionIsIdempotentAndPriorityOrdersLeases(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            let (low, created) = try store.createJob(Self.job("low", key: "k1"), tasks: Self.tasks("low", 2), actor: "a")
            #expect(created && low.id == "low")
            let again = try store.createJob(Self.job("other", key: "k1"), tasks: Self.tasks("other", 5), actor: "a")
            #expect(!again.created && again.job.id == "low")
            #expect(try store.tasks(jobId: "other").isEmpty)
            _ = try store.createJob(Self.job("high", priority: 5), tasks: Self.tasks("high", 1), actor: "a")
            let first = try #require(try store.leaseTask(owner: "w", seconds: 30, now: Self.now()))
            #expect(first.task.id == "high-0000" && first.job.status == .running && first.task.attempts == 1 && first.task.leaseOwner == "w")
            #expect(try store.leaseTask(owner: "w", seconds: 30, now: Self.now())?.task.id == "low-0000")
            #expect(try store.openTaskCount() == 3)
            #expect(try store.jobs(status: .running).map(\.id).sorted() == ["high", "low"])
            #expect(try store.audit(entity: "low", limit: 5).map(\.action) == ["submit-job"])
        }
    }

    @Test(arguments: Backend.available)
    func aSilentWorkerLosesItsLeaseAndAHeartbeatingOneKeepsIt(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            _ = try store.createJob(Self.job("j"), tasks: Self.tasks("j", 2), actor: "a")
            let silent = try #require(try store.leaseTask(owner: "silent", seconds: 5, now: Self.now()))
            let alive = try #require(try store.leaseTask(owner: "alive", seconds: 5, now: Self.now()))
            // The heartbeat extends the 5 s lease to a minute, so a starved test thread cannot let it lapse (5 s leaves
            // room for a thread starved between the lease and the heartbeat: CI once saw 2 s pass there); the silent
            // one's lapses. The thief polls until it finds the lapsed lease (a busy machine may be late).
            #expect(try store.renewLease(taskId: alive.task.id, owner: "alive", seconds: 60, now: Self.now()))
            let deadline = Date().addingTimeInterval(30)
            var stolenLease: Lease?
            while stolenLease == nil && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.25)
                stolenLease = try store.leaseTask(owner: "thief", seconds: 30, now: Self.now())
            }
            let stolen = try #require(stolenLease)
            #expect(stolen.task.id == silent.task.id && stolen.task.attempts == 2)
            // Past the alive one's original 5 s too: only the renewal keeps it.
            Thread.sleep(forTimeInterval: 0.5)
            #expect(try store.leaseTask(owner: "thief", seconds: 30, now: Self.now()) == nil)
            #expect(try !store.renewLease(taskId: silent.task.id, owner: "silent", seconds: 30, now: Self.now()))
            #expect(try !store.completeTask(taskId: silent.task.id, owner: "silent", run: Self.run("j"), results: [], now: Self.now()))
            #expect(try store.completeTask(taskId: alive.task.id, owner: "alive", run: Self.run("j"), results: [], now: Self.now()))
            #expect(try store.completeTask(taskId: stolen.task.id, owner: "thief", run: Self.run("j"), results: [], now: Self.now()))
            #expect(try store.tasks(jobId: "j").allSatisfy { $0.status == .success && $0.leaseOwner == nil })
        }
    }

    @Test(arguments: Backend.available)
    func failuresBackOffAndEndFailedAfterMaxAttempts(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            _ = try store.createJob(Self.job("j", maxAttempts: 2), tasks: Self.tasks("j", 1), actor: "a")
            let first = try #require(try store.leaseTask(owner: "w", seconds: 30, now: Self.now()))
            // A backoff long enough that a starved test thread still asks within it; then poll until it ends.
            let failedAt = Date()
            try store.failTask(taskId: first.task.id, owner: "w", error: "flaky", retryable: true, backoff: 8, now: Self.now())
            #expect(try store.task(id: first.task.id)?.status == .pending)
            #expect(try store.leaseTask(owner: "w", seconds: 30, now: Self.now()) == nil)  // backing off
            var retried: Lease?
            while retried == nil && Date().timeIntervalSince(failedAt) < 40 {
                Thread.sleep(forTimeInterval: 0.25)
                retried = try store.leaseTask(owner: "w", seconds: 30, now: Self.now())
            }
            let second = try #require(retried)
            #expect(Date().timeIntervalSince(failedAt) >= 7.5, "leased again before the backoff ended")
            #expect(second.task.attempts == 2 && second.task.error == "flaky")
            try store.failTask(taskId: second.task.id, owner: "w", error: "flaky again", retryable: true, backoff: 0.1, now: Self.now())
            let failed = try #require(try store.task(id: first.task.id))
            #expect(failed.status == .failed && failed.error == "flaky again" && failed.finishedAt != nil)
            // A non-retryable failure fails at once; a failure reported by a non-owner changes nothing.
            _ = try store.createJob(Self.job("k"), tasks: Self.tasks("k", 1), actor: "a")
            let k = try #require(try store.leaseTask(owner: "w", seconds: 30, now: Self.now()))
            try store.failTask(taskId: k.task.id, owner: "someone-else", error: "x", retryable: false, backoff: 0, now: Self.now())
            #expect(try store.task(id: k.task.id)?.status == .running)
            try store.failTask(taskId: k.task.id, owner: "w", error: "bad payload", retryable: false, backoff: 0, now: Self.now())
            #expect(try store.task(id: k.task.id)?.status == .failed)
            let stats = try store.queueStatistics(resultsSince: "2000-01-01")
            #expect(stats.byStatus[.failed] == 2 && stats.retries == 1)
        }
    }

    @Test(arguments: Backend.available)
    func aTaskWhoseWorkerIsLostOnEveryAttemptFailsWithWorkerLost(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            _ = try store.createJob(Self.job("j", maxAttempts: 2), tasks: Self.tasks("j", 2), actor: "a")
            // Attempt 1 and 2 of task 0 die silently (their leases lapse); task 1 succeeds.
            let ok = try #require(try store.leaseTask(id: "j-0001", owner: "good", seconds: 30, now: Self.now()))
            for attempt in 1...2 {
                let lease = try #require(try store.leaseTask(owner: "doomed-\(attempt)", seconds: 0.3, now: Self.now()))
                #expect(lease.task.id == "j-0000" && lease.task.attempts == attempt)
                Thread.sleep(forTimeInterval: 0.45)
            }
            #expect(try store.leaseTask(owner: "next", seconds: 30, now: Self.now()) == nil, "an exhausted task was leased again")
            #expect(try store.leaseTask(id: "j-0000", owner: "next", seconds: 30, now: Self.now()) == nil)
            #expect(try store.completeTask(taskId: ok.task.id, owner: "good", run: Self.run("j"), results: [], now: Self.now()))
            #expect(try store.finishJobIfDone(id: "j") == nil)  // the lost task is still RUNNING until swept
            #expect(try store.failLostTasks(now: Self.now()) == ["j"])
            #expect(try store.failLostTasks(now: Self.now()).isEmpty)
            let lost = try #require(try store.task(id: "j-0000"))
            #expect(lost.status == .failed && lost.attempts == 2 && lost.leaseOwner == nil)
            #expect(lost.error?.hasPrefix("worker lost 2 times: the lease of doomed-2 expired") == true, "\(lost.error ?? "")")
            let finished = try #require(try store.finishJobIfDone(id: "j"))
            #expect(finished.status == .failed && finished.error == "1 of 2 tasks failed")
        }
    }

    @Test(arguments: Backend.available)
    func releasingGivesTheAttemptBackAndCancelAndRetryWork(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            _ = try store.createJob(Self.job("j"), tasks: Self.tasks("j", 3), actor: "a")
            let a = try #require(try store.leaseTask(owner: "w", seconds: 30, now: Self.now()))
            try store.releaseTask(taskId: a.task.id, owner: "w")
            let released = try #require(try store.task(id: a.task.id))
            #expect(released.status == .pending && released.attempts == 0 && released.leaseOwner == nil)
            let running = try #require(try store.leaseTask(owner: "w", seconds: 30, now: Self.now()))
            let cancelled = try store.cancelJob(id: "j", actor: "alice")
            #expect(cancelled.status == .running)  // a task still runs
            #expect(try store.tasks(jobId: "j").filter { $0.status == .cancelled }.count == 2)
            #expect(try store.completeTask(taskId: running.task.id, owner: "w", run: Self.run("j"), results: [], now: Self.now()))
            #expect(try store.finishJobIfDone(id: "j")?.status == .cancelled)
            #expect(throws: StoreError.unknownJob("nope")) { try store.cancelJob(id: "nope", actor: "a") }
            // Retry puts failed tasks back with fresh attempts.
            _ = try store.createJob(Self.job("r", maxAttempts: 1), tasks: Self.tasks("r", 1), actor: "a")
            let r = try #require(try store.leaseTask(id: "r-0000", owner: "w", seconds: 30, now: Self.now()))
            try store.failTask(taskId: r.task.id, owner: "w", error: "boom", retryable: true, backoff: 0, now: Self.now())
            #expect(try store.finishJobIfDone(id: "r")?.status == .failed)
            try store.saveJobSummary(JobSummaryRecord(jobId: "r", csv: "factor\n", top: [], createdAt: Clock.now()))
            let retried = try store.retryJob(id: "r", actor: "alice")
            #expect(retried.status == .pending && retried.error == nil && retried.summaryAt == nil)
            #expect(try store.jobSummary(id: "r") == nil)  // the failed run's summary is not served as the new one's
            let again = try #require(try store.task(id: "r-0000"))
            #expect(again.status == .pending && again.attempts == 0 && again.error == nil)
            #expect(try store.audit(entity: "r", limit: 5).map(\.action) == ["retry-job", "submit-job"])
        }
    }

    @Test(arguments: Backend.available)
    func theLastTaskFinishesTheJobOnceAndItsSummaryIsStored(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            try store.insertSubscription(SubscriptionRecord(id: "s", url: "http://127.0.0.1:9/", events: [.jobSucceeded], secret: "0123456789abcdef",
                                                            createdAt: Clock.now()), actor: "a")
            _ = try store.createJob(Self.job("j"), tasks: Self.tasks("j", 2), actor: "a")
            for _ in 0..<2 {
                let lease = try #require(try store.leaseTask(owner: "w", seconds: 30, now: Self.now()))
                #expect(try store.completeTask(taskId: lease.task.id, owner: "w", run: Self.run("j"),
                                               results: [(result("run-j", "F\(lease.task.id.suffix(1))"), seriesRows)], now: Self.now()))
            }
            let done = try #require(try store.finishJobIfDone(id: "j"))
            #expect(done.status == .success && done.summaryAt == nil)
            #expect(try store.jobSummary(id: "j") == nil)
            // Until its summary is stored (the finisher may have died), the finished job is handed out again.
            #expect(try store.finishJobIfDone(id: "j")?.status == .success)
            let summary = JobSummaryRecord(jobId: "j", csv: "factor,n\nF0,240\nF1,240\n", top: [result("run-j", "F1", rankICIR: 0.5)], createdAt: Clock.now())
            try store.saveJobSummary(summary)
            #expect(try store.jobSummary(id: "j") == summary)
            #expect(try store.job(id: "j")?.summaryAt == summary.createdAt)
            #expect(try store.finishJobIfDone(id: "j") == nil)  // already finished and summarised
            #expect(throws: StoreError.unknownJob("nope")) {
                try store.saveJobSummary(JobSummaryRecord(jobId: "nope", csv: "", top: [], createdAt: Clock.now()))
            }
            #expect(try store.deliveries(subscriptionId: "s").map(\.event) == [.jobSucceeded])
            #expect(try store.results(matching: ResultFilter(runId: "run-j")).count == 2)
            #expect(try store.recentFinishedTasks(limit: 10).count == 2)
            #expect(try store.queueStatistics(resultsSince: "2000-01-01").recentResults == 2)
        }
    }

    @Test(arguments: Backend.available)
    func concurrentWorkersNeverShareALease(backend: Backend) async throws {
        try await blocking {
            let (first, location, cleanup) = try backend.make()
            defer { cleanup() }
            _ = try first.createJob(Self.job("j"), tasks: Self.tasks("j", 120), actor: "a")
            // A large job is written whole (in several statements on PostgreSQL), each task once.
            _ = try first.createJob(Self.job("big", priority: -1), tasks: Self.tasks("big", 2_500), actor: "a")
            #expect(try first.tasks(jobId: "big").map(\.id) == Self.tasks("big", 2_500).map(\.id))
            _ = try first.cancelJob(id: "big", actor: "a")
            let handles = [first, try StoreLocation.open(location), try StoreLocation.open(location), try StoreLocation.open(location)]
            let leased = FailureBox(), errors = FailureBox()
            DispatchQueue.concurrentPerform(iterations: 8) { w in
                let store = handles[w % handles.count]
                while true {
                    do {
                        guard let lease = try store.leaseTask(owner: "w\(w)", seconds: 60, now: Self.now()) else { return }
                        leased.add(lease.task.id)
                        _ = try store.completeTask(taskId: lease.task.id, owner: "w\(w)", run: Self.run("j"), results: [], now: Self.now())
                    } catch {
                        errors.add("\(error)")
                        return
                    }
                }
            }
            #expect(errors.all.isEmpty, "\(errors.all.prefix(3))")
            #expect(leased.all.count == 120 && Set(leased.all).count == 120, "double or lost leases: \(leased.all.count) leases of \(Set(leased.all).count) tasks")
            #expect(try first.tasks(jobId: "j").allSatisfy { $0.status == .success && $0.attempts == 1 })
        }
    }
}

import FactorData
@testable import FactorPlatform
import FactorStore
import Foundation
import Testing

/// A registry fixture with `count` registered factors on the synthetic data.
func registered(_ f: Fixture, count: Int, approve: Bool = true) throws -> [String] {
    let codes = (1...count).map { "MOM\($0)" }
    for (k, code) in codes.enumerated() {
        try f.registry.register(FactorDraft(code: code, expression: "$close/Ref($close, \(k + 1)) - 1"), actor: "alice")
        if approve {
            try f.registry.lifecycle.submitForReview(code: code, actor: "alice")
            try f.registry.lifecycle.approve(code: code, actor: "rita")
        }
    }
    return codes
}

func jobRequest(_ codes: [String], universes: [String] = ["core20"], batch: Int = 2, drafts: Bool = false,
                key: String? = nil, maxAttempts: Int = 3) -> JobRequest {
    JobRequest(selection: .codes(codes), includeDrafts: drafts,
               windows: [.init(start: "2021-06-01", end: "2021-12-31"), .init(start: "2022-01-01", end: "2022-12-30")],
               frequencies: ["day"], universes: universes, horizons: [1, 5], batchSize: batch, maxAttempts: maxAttempts,
               idempotencyKey: key, dataDirectory: Fixture.dataDirectory, sourceKind: "csv")
}

@Suite("Jobs, the task queue and workers", .serialized)
struct JobQueueTests {
    @Test func plannerSplitsFactorBatchesByUniverseWindowAndFrequency() throws {
        let f = try Fixture()
        defer { f.remove() }
        let codes = try registered(f, count: 5)
        let (job, tasks) = try JobPlanner.plan(jobRequest(codes, universes: ["core20", "all"], batch: 2), store: f.store)
        #expect(tasks.count == 3 * 2 * 2)  // ⌈5/2⌉ batches × 2 universes × 2 windows × 1 frequency
        let payloads = try tasks.map { try JSONDecoder().decode(TaskPayload.self, from: Data($0.payload.utf8)) }
        #expect(payloads.map(\.factors.count).sorted() == [1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2])
        #expect(payloads.allSatisfy { $0.factors.allSatisfy { $0.version == 1 } })
        #expect(job.status == .pending && job.maxAttempts == 3)
        // Drafts are refused unless asked for.
        try f.registry.register(FactorDraft(code: "DRAFT", expression: "Std($close, 5)"), actor: "alice")
        #expect(throws: PlatformError.self) { try JobPlanner.plan(jobRequest(["DRAFT"]), store: f.store) }
        #expect(try JobPlanner.plan(jobRequest(["DRAFT"], drafts: true), store: f.store).tasks.count == 2)
    }

    @Test func idempotencyKeyReturnsTheExistingJob() throws {
        let f = try Fixture()
        defer { f.remove() }
        let codes = try registered(f, count: 2)
        let first = try JobPlanner.plan(jobRequest(codes, key: "nightly-2022"), store: f.store)
        let a = try f.store.createJob(first.job, tasks: first.tasks, actor: "cron")
        let second = try JobPlanner.plan(jobRequest(codes, key: "nightly-2022"), store: f.store)
        let b = try f.store.createJob(second.job, tasks: second.tasks, actor: "cron")
        #expect(a.created && !b.created && b.job.id == a.job.id && b.job.runId == a.job.runId)
        #expect(try f.store.jobs(status: nil).count == 1)
        #expect(try f.store.tasks(jobId: a.job.id).count == first.tasks.count)
    }

    @Test func leasesExpireRenewRetryAndFail() throws {
        let f = try Fixture()
        defer { f.remove() }
        let codes = try registered(f, count: 1)
        let planned = try JobPlanner.plan(jobRequest(codes, maxAttempts: 2), store: f.store)
        _ = try f.store.createJob(planned.job, tasks: Array(planned.tasks.prefix(1)), actor: "t")
        let t0 = 1_000_000.0
        let lease = try #require(try f.store.leaseTask(owner: "w1", seconds: 10, now: t0))
        #expect(lease.task.attempts == 1 && lease.task.status == .running && lease.job.status == .running)
        #expect(try f.store.leaseTask(owner: "w2", seconds: 10, now: t0 + 5) == nil)  // held
        #expect(try f.store.renewLease(taskId: lease.task.id, owner: "w1", seconds: 10, now: t0 + 8))
        #expect(try f.store.leaseTask(owner: "w2", seconds: 10, now: t0 + 12) == nil)  // renewed until t0 + 18
        let stolen = try #require(try f.store.leaseTask(owner: "w2", seconds: 10, now: t0 + 19))  // expired: back in the queue
        #expect(stolen.task.attempts == 2)
        #expect(try !f.store.renewLease(taskId: lease.task.id, owner: "w1", seconds: 10, now: t0 + 20))  // w1 lost it
        let run = RunRecord(runId: lease.job.runId, createdAt: Clock.now(), kind: "job", parameters: "{}")
        #expect(try !f.store.completeTask(taskId: lease.task.id, owner: "w1", run: run, results: [], now: t0 + 21))
        // w2 fails it: attempts (2) reached the maximum (2) → FAILED with the error.
        try f.store.failTask(taskId: stolen.task.id, owner: "w2", error: "boom", retryable: true, backoff: 5, now: t0 + 22)
        let failed = try #require(try f.store.task(id: stolen.task.id))
        #expect(failed.status == .failed && failed.error == "boom")
        #expect(try f.store.finishJobIfDone(id: lease.job.id)?.status == .failed)
        // retry-job puts it back with fresh attempts; a retryable failure then waits for its backoff.
        #expect(try f.store.retryJob(id: lease.job.id, actor: "t").status == .pending)
        let again = try #require(try f.store.leaseTask(owner: "w3", seconds: 10, now: t0 + 30))
        try f.store.failTask(taskId: again.task.id, owner: "w3", error: "flaky", retryable: true, backoff: 5, now: t0 + 31)
        #expect(try f.store.task(id: again.task.id)?.status == .pending)
        #expect(try f.store.leaseTask(owner: "w3", seconds: 10, now: t0 + 33) == nil)  // backing off until t0 + 36
        let third = try #require(try f.store.leaseTask(owner: "w3", seconds: 10, now: t0 + 37))
        // A clean stop gives the lease back without counting the attempt.
        try f.store.releaseTask(taskId: third.task.id, owner: "w3")
        let released = try #require(try f.store.task(id: third.task.id))
        #expect(released.status == .pending && released.attempts == third.task.attempts - 1)
    }

    @Test func cancelStopsWhatHasNotStarted() throws {
        let f = try Fixture()
        defer { f.remove() }
        let codes = try registered(f, count: 4)
        let planned = try JobPlanner.plan(jobRequest(codes), store: f.store)
        _ = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
        let running = try #require(try f.store.leaseTask(owner: "w", seconds: 60, now: Date().timeIntervalSince1970))
        let job = try f.store.cancelJob(id: planned.job.id, actor: "t")
        #expect(job.status == .running)  // one task is still running
        let tasks = try f.store.tasks(jobId: planned.job.id)
        #expect(tasks.filter { $0.status == .cancelled }.count == planned.tasks.count - 1)
        #expect(try f.store.leaseTask(owner: "w2", seconds: 60, now: Date().timeIntervalSince1970) == nil)
        let run = RunRecord(runId: running.job.runId, createdAt: Clock.now(), kind: "job", parameters: "{}")
        #expect(try f.store.completeTask(taskId: running.task.id, owner: "w", run: run, results: [], now: Date().timeIntervalSince1970))
        #expect(try f.store.finishJobIfDone(id: planned.job.id)?.status == .cancelled)
    }

    @Test func workersRunAJobToTheEndWithOneCopyOfEveryResult() throws {
        let f = try Fixture()
        defer { f.remove() }
        var codes = try registered(f, count: 5)
        // A factor whose benchmark the data lacks fails alone; the rest of its batch is evaluated.
        try f.registry.register(FactorDraft(code: "BETA500", expression: "Corr($close, ChangeInstrument('SH000300', $close), 20)"), actor: "a")
        try f.registry.lifecycle.submitForReview(code: "BETA500", actor: "a")
        try f.registry.lifecycle.approve(code: "BETA500", actor: "r")
        _ = try f.store.appendVersion(FactorVersionRecord(code: "BETA500", version: 2,
                                                      expression: "Corr($close, ChangeInstrument('SH000905', $close), 20)",
                                                      canonical: "x", hash: "x", note: "broken on purpose", author: "t",
                                                      createdAt: Clock.now(), nanRatio: 0, infRatio: 0, sampleCells: 0),
                                  status: .approved, actor: "t", action: "update")
        codes.append("BETA500")
        let planned = try JobPlanner.plan(jobRequest(codes, batch: 3), store: f.store)
        let (job, _) = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
        let worker = Worker(store: f.store, options: Worker.Options(name: "w", concurrency: 2, mode: .untilEmpty, leaseSeconds: 30, pollSeconds: 0.05))
        let outcomes = worker.run()
        #expect(outcomes.count == planned.tasks.count && outcomes.allSatisfy { $0.status == "SUCCESS" })
        let done = try #require(try f.store.job(id: job.id))
        #expect(done.status == .success)
        #expect(done.summaryAt != nil)
        let results = try f.store.results(matching: ResultFilter(runId: job.runId))
        // The summary is a record in the store: a header and one CSV row per result; its Top-N is ranked by Rank ICIR.
        let summary = try #require(try f.store.jobSummary(id: job.id))
        #expect(summary.csv.split(separator: "\n").count == results.count + 1)
        #expect(summary.csv.hasPrefix("factor,version,universe,frequency,start,end,horizon,n,ic_mean,"))
        #expect(summary.top.count == results.filter { $0.error == nil && $0.rankICIR.isFinite }.count)
        #expect(zip(summary.top, summary.top.dropFirst()).allSatisfy { $0.rankICIR >= $1.rankICIR })
        let exported = f.directory + "/summary.csv"
        try JobSummary.export(jobId: job.id, to: exported, store: f.store)
        #expect(try String(contentsOfFile: exported, encoding: .utf8) == summary.csv)
        #expect(results.count == 6 * 2 * 2)  // factors × windows × horizons
        let errors = results.filter { $0.error != nil }
        #expect(Set(errors.map(\.key.factorCode)) == ["BETA500"])
        #expect(errors.allSatisfy { $0.error!.contains("SH000905") })
        // Running the same tasks again (a retry after a crash) leaves one copy of each result.
        _ = try f.store.retryJob(id: job.id, actor: "t")
        for t in try f.store.tasks(jobId: job.id) {
            if let lease = try f.store.leaseTask(id: t.id, owner: "again", seconds: 30, now: Date().timeIntervalSince1970) {
                worker.process(lease, owner: "again")
            }
        }
        #expect(try f.store.results(matching: ResultFilter(runId: job.runId)).count == results.count)
        let top = try JobSummary.top(3, job: done, store: f.store)
        #expect(top.count == 3 && top[0].rankICIR >= top[1].rankICIR)
    }
}

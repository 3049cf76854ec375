@testable import FactorPlatform
import FactorStore
import Foundation
import GRDB
import Testing

@Suite("Alert rules when a job ends", .serialized)
struct JobMonitorTests {
    /// A job of `count` one-factor tasks, all leased by "w".
    func job(_ f: Fixture, tasks count: Int) throws -> (JobRecord, [TaskRecord]) {
        let codes = try registered(f, count: count)
        let planned = try JobPlanner.plan(jobRequest(codes, batch: 1).withOneWindow(), store: f.store)
        _ = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
        for _ in planned.tasks { _ = try f.store.leaseTask(owner: "w", seconds: 60, now: Date().timeIntervalSince1970) }
        return (planned.job, planned.tasks)
    }

    func result(_ run: String, _ code: String, ic: Double, n: Int = 200, inSample: Int = 900, members: Int = 1000,
                settings: String = "s") -> (ResultRecord, [ResultSeriesRow]) {
        var r = ResultRecord(key: ResultKey(runId: run, factorCode: code, factorVersion: 1, universe: "core20", frequency: "day",
                                            start: "2021-06-01", end: "2021-12-31", horizon: 1, settingsHash: settings),
                             createdAt: Clock.now(), delay: 1, quantiles: 5)
        r.icMean = ic; r.n = n; r.inSample = inSample; r.memberRows = members; r.withFactor = members
        return (r, [])
    }

    @Test func failuresIcDropsAndCoverageRaiseAlertsAndWebhooks() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.store.insertSubscription(SubscriptionRecord(id: "s1", url: "http://127.0.0.1:9/none", events: [.alertRaised],
                                                          secret: "0123456789abcdef", createdAt: Clock.now()), actor: "t")
        // An earlier run where MOM1 had a mean IC of 0.05.
        try f.store.saveResults(run: RunRecord(runId: "old", createdAt: Clock.now(), kind: "evaluate", parameters: "{}"),
                                results: [result("old", "MOM1", ic: 0.05)], actor: "t")
        // MOM2 was last evaluated with other settings (another delay): not comparable, so no ic_drop for it.
        try f.store.saveResults(run: RunRecord(runId: "other-settings", createdAt: Clock.now(), kind: "evaluate", parameters: "{}"),
                                results: [result("other-settings", "MOM2", ic: 0.09, settings: "d0")], actor: "t")
        let (job, tasks) = try job(f, tasks: 3)
        let now = Date().timeIntervalSince1970
        let run = RunRecord(runId: job.runId, createdAt: Clock.now(), kind: "job",
                            parameters: #"{"settingsHash": "s", "settings": "neutralize industry"}"#)
        #expect(try f.store.completeTask(taskId: tasks[0].id, owner: "w", run: run, results: [result(job.runId, "MOM1", ic: 0.01)], now: now))
        #expect(try f.store.completeTask(taskId: tasks[1].id, owner: "w", run: run, results: [result(job.runId, "MOM2", ic: 0.02, n: 5)], now: now))
        try f.store.failTask(taskId: tasks[2].id, owner: "w", error: "bad data", retryable: false, backoff: 1, now: now)
        let finished = try #require(try f.store.finishJobIfDone(id: job.id))
        let alerts = try JobMonitor(store: f.store).evaluate(finished)
        #expect(Set(alerts.map(\.rule)) == ["task_failures", "ic_drop", "sample_size"])
        #expect(alerts.first { $0.rule == "ic_drop" }?.subject == "MOM1 core20 day h1 · neutralize industry")
        #expect(alerts.first { $0.rule == "ic_drop" }?.figures == ["icMean": 0.01, "previousICMean": 0.05, "drop": 0.05 - 0.01, "threshold": 0.02])
        #expect(alerts.first { $0.rule == "ic_drop" }?.factorCode == "MOM1")
        #expect(alerts.first { $0.rule == "sample_size" }?.subject.hasPrefix("MOM2") == true)
        #expect(alerts.first { $0.rule == "task_failures" }?.figures["rate"] == 1.0 / 3)
        #expect(try f.store.alerts(limit: 10).count == 3)
        #expect(try f.store.deliveries(subscriptionId: "s1").filter { $0.event == .alertRaised }.count == 3)
    }

    @Test func aTaskSlowerThanTheP95OfItsKindRaisesAnAlert() throws {
        let f = try Fixture()
        defer { f.remove() }
        // 25 earlier single-factor tasks of the same kind took 1 s each.
        let (earlier, earlierTasks) = try job(f, tasks: 25)
        let run = RunRecord(runId: earlier.runId, createdAt: Clock.now(), kind: "job", parameters: "{}")
        for t in earlierTasks { _ = try f.store.completeTask(taskId: t.id, owner: "w", run: run, results: [], now: Date().timeIntervalSince1970) }
        let queue = try DatabaseQueue(path: f.store.path)
        try queue.write { db in
            try db.execute(sql: "UPDATE tasks SET started_at = '2026-01-01T00:00:00.000Z', finished_at = '2026-01-01T00:00:01.000Z'")
        }
        _ = try f.store.finishJobIfDone(id: earlier.id)
        // A new job of the same kind whose task takes 9 s.
        let planned = try JobPlanner.plan(jobRequest(["MOM1"], batch: 1).withOneWindow(), store: f.store)
        _ = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
        let lease = try #require(try f.store.leaseTask(owner: "w2", seconds: 60, now: Date().timeIntervalSince1970))
        _ = try f.store.completeTask(taskId: lease.task.id, owner: "w2",
                                     run: RunRecord(runId: planned.job.runId, createdAt: Clock.now(), kind: "job", parameters: "{}"),
                                     results: [], now: Date().timeIntervalSince1970)
        try queue.write { db in
            try db.execute(sql: "UPDATE tasks SET started_at = '2026-01-02T00:00:00.000Z', finished_at = '2026-01-02T00:00:09.000Z' WHERE id = ?",
                           arguments: [lease.task.id])
        }
        let finished = try #require(try f.store.finishJobIfDone(id: planned.job.id))
        let alerts = try JobMonitor(store: f.store).evaluate(finished)
        #expect(alerts.map(\.rule) == ["slow_task"])
        #expect(alerts.first?.message.contains("above the P95 1.00 s of 25 earlier") == true)
        #expect(alerts.first?.figures == ["seconds": 9, "quantile": 1, "threshold": 0.95, "history": 25])
    }
}

extension JobRequest {
    func withOneWindow() -> JobRequest {
        var r = self
        r.windows = [windows[0]]
        r.horizons = [1]
        return r
    }
}

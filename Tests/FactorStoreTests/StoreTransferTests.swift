import FactorStore
import FactorTestSupport
import Foundation
import Testing

/// `migrate-store`: a whole store copied SQLite → PostgreSQL → SQLite is the same store, byte for byte.
@Suite("Copying a store between databases")
struct StoreTransferTests {
    /// A store with a row in every table: factors with versions and audit, results with NaN figures and series,
    /// a finished job with its summary, a subscription with deliveries, alerts, tokens and users.
    static func populate(_ store: any PlatformStore) throws {
        try store.insertSubscription(SubscriptionRecord(id: "s1", url: "http://127.0.0.1:9/h", events: [.jobSucceeded, .alertRaised],
                                                        secret: "0123456789abcdef", createdAt: Clock.now()), actor: "alice")
        try store.insertFactors([(factor("MOM5"), version("MOM5", 1, "Ref($close,5)/$close")),
                                 (factor("VOL", category: "volatility", tags: ["risk", "slow"]), version("VOL", 1, "Std($close,20)"))],
                                actor: "alice", action: "register")
        _ = try store.appendVersion(version("MOM5", 2, "Ref($close,10)/$close"), status: nil, actor: "alice", action: "update")
        _ = try store.updateStatus(code: "VOL", from: [.draft], to: .approved, actor: "rita", action: "approve")
        _ = try store.createJob(JobRecord(id: "job1", runId: "run-job1", idempotencyKey: "k", status: .pending, priority: 2, maxAttempts: 3,
                                          parameters: "{\"a\":1}", createdAt: Clock.now(), updatedAt: Clock.now()),
                                tasks: (0..<2).map { TaskRecord(id: "job1-\($0)", jobId: "job1", status: .pending, payload: "{}",
                                                                createdAt: Clock.now(), updatedAt: Clock.now()) }, actor: "alice")
        for _ in 0..<2 {
            let lease = try #require(try store.leaseTask(owner: "w", seconds: 60, now: Date().timeIntervalSince1970))
            _ = try store.completeTask(taskId: lease.task.id, owner: "w", run: RunRecord(runId: "run-job1", createdAt: Clock.now(), kind: "job", parameters: "{}"),
                                       results: [(result("run-job1", lease.task.id == "job1-0" ? "MOM5" : "VOL"), seriesRows)], now: Date().timeIntervalSince1970)
        }
        let job = try #require(try store.finishJobIfDone(id: "job1"))
        try store.saveJobSummary(JobSummaryRecord(jobId: job.id, csv: "factor\nMOM5\nVOL\n", top: [result("run-job1", "VOL", rankICIR: 0.3)],
                                                  createdAt: Clock.now()))
        try store.saveResults(run: RunRecord(runId: "adhoc", createdAt: Clock.now(), kind: "evaluate", parameters: "{}"),
                              results: [(result("adhoc", "MOM5", horizon: 5, rankICIR: .nan), [])], actor: "bob")
        try store.insertAlerts([AlertRecord(rule: "coverage", severity: "warning", subject: "VOL", message: "low ‰ coverage, \"quoted\"",
                                            jobId: "job1", createdAt: Clock.now())])
        try store.insertToken(TokenRecord(id: "t1", name: "ops", role: .admin, createdAt: Clock.now()), secretHash: "h1", actor: "root")
        try store.insertToken(TokenRecord(id: "t2", name: "old", role: .worker, createdAt: Clock.now(), expiresAt: "2030-01-01T00:00:00.000Z"),
                              secretHash: "h2", actor: "root")
        _ = try store.setUser(name: "rita", role: .reviewer, actor: "root")
        try store.revokeToken(name: "old", actor: "root")
    }

    @Test(.disabled(if: !TestPostgres.available, Comment(rawValue: TestPostgres.skipNote)))
    func aRoundTripThroughPostgreSQLLeavesTheSameExport() async throws {
        try await blocking {
            let dir = NSTemporaryDirectory() + "factorlab-transfer-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let (url, drop) = try TestPostgres.scratchDatabase("transfer")
            defer { drop() }
            let original = try StoreTransfer.open(dir + "/a.db")
            try Self.populate(original)
            let postgres = try StoreTransfer.open(url)
            let toPostgres = try StoreTransfer.copy(from: original, to: postgres)
            #expect(toPostgres.allSatisfy { $0.rows > 0 }, "a table was empty, so the test would not cover it: \(toPostgres)")
            let back = try StoreTransfer.open(dir + "/b.db")
            let toSQLite = try StoreTransfer.copy(from: postgres, to: back)
            #expect(toSQLite.map(\.rows) == toPostgres.map(\.rows))
            let exported = try StoreTransfer.export(original)
            #expect(try StoreTransfer.export(back) == exported)
            #expect(try StoreTransfer.export(postgres) == exported)
            #expect(exported.contains("\"row\":{\"active\":1,"))
            // The copies are whole stores, not just rows: the same answers through the protocols.
            #expect(try postgres.factors(matching: FactorFilter()) == original.factors(matching: FactorFilter()))
            #expect(try postgres.versions(code: "MOM5") == original.versions(code: "MOM5"))
            #expect(try back.results(matching: ResultFilter()) == original.results(matching: ResultFilter()))
            #expect(try back.series(key: result("run-job1", "MOM5").key) == seriesRows)
            #expect(try postgres.jobSummary(id: "job1") == original.jobSummary(id: "job1"))
            #expect(try postgres.token(secretHash: "h1")?.name == "ops" && postgres.token(secretHash: "h2") == nil)
            #expect(try postgres.audit(entity: nil, limit: 100) == original.audit(entity: nil, limit: 100))
            // Generated ids continue after the copied ones.
            try postgres.insertAlerts([AlertRecord(rule: "r", severity: "info", subject: "x", message: "after", jobId: nil, createdAt: Clock.now())])
            let alerts = try postgres.alerts(limit: 10)
            #expect(alerts.count == 2 && alerts[0].id == alerts[1].id + 1)
            // A target that holds anything is refused, and keeps what it holds.
            #expect {
                try StoreTransfer.copy(from: original, to: postgres)
            } throws: { error in
                guard case .targetNotEmpty(let tables) = error as? StoreError else { return false }
                return tables.contains("factors (2 rows)")
            }
            #expect(try postgres.alerts(limit: 10).count == 2)
        }
    }

    @Test func anSQLiteCopyIsTheSameStore() throws {
        let dir = NSTemporaryDirectory() + "factorlab-transfer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let original = try StoreTransfer.open(dir + "/a.db")
        try Self.populate(original)
        let copy = try StoreTransfer.open(dir + "/b.db")
        try StoreTransfer.copy(from: original, to: copy)
        let exported = try StoreTransfer.export(original)
        #expect(try StoreTransfer.export(copy) == exported)
        #expect(exported.split(separator: "\n").count == StoreTransfer.tables.map { try! original.rowCount(of: $0.name) }.reduce(0, +))
        #expect(throws: StoreError.self) { try StoreTransfer.copy(from: original, to: copy) }
    }
}

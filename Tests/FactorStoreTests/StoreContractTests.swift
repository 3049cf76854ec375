import Dispatch
import FactorStore
import FactorTestSupport
import Foundation
import GRDB
import Testing

func factor(_ code: String, category: String = "momentum", owner: String = "alice", tags: [String] = ["x"]) -> FactorRecord {
    FactorRecord(code: code, name: code.lowercased(), category: category, owner: owner, tags: tags, description: "",
                 status: .draft, latestVersion: 1, createdAt: Clock.now(), updatedAt: Clock.now())
}

func version(_ code: String, _ n: Int, _ expression: String, hash: String? = nil) -> FactorVersionRecord {
    FactorVersionRecord(code: code, version: n, expression: expression, canonical: expression, hash: hash ?? "h-\(expression)",
                        note: "v\(n)", author: "alice", createdAt: Clock.now(), nanRatio: 0.1, infRatio: 0, sampleCells: 100)
}

func result(_ run: String, _ code: String, horizon: Int = 1, rankICIR: Double = 0.1) -> ResultRecord {
    var r = ResultRecord(key: ResultKey(runId: run, factorCode: code, factorVersion: 1, universe: "csi300", frequency: "day",
                                        start: "2020-01-02", end: "2020-12-31", horizon: horizon, settingsHash: "s1"),
                         createdAt: Clock.now(), delay: 1, quantiles: 5)
    r.n = 240
    r.rankICIR = rankICIR
    r.icMean = 0.01
    r.groupMeans = [0.1, .nan, 0.3]
    r.decay = [0.05, .nan, 0.02]
    r.rowsNoIC = 3
    r.noICReasons = ["fewer than min-names in the sample": 2, "no spread in the factor": 1]
    return r
}

let seriesRows = [ResultSeriesRow(date: "2020-01-02", n: 280, ic: 0.1, rankIC: .nan, longShort: 0.01, groups: [0.1, .nan],
                                  turnoverTop: .nan, turnoverBottom: 0.2, autocorr: 0.9),
                  ResultSeriesRow(date: "2020-01-03", n: 281, ic: -0.1, rankIC: 0.05, longShort: .nan, groups: [0.2, 0.3],
                                  turnoverTop: 0.1, turnoverBottom: 0.2, autocorr: 0.8, members: 300, withFactor: 290, withReturn: 285)]

@Suite("FactorStore contract")
struct StoreContractTests {
    @Test(arguments: Backend.available)
    func registerFetchAndRejectDuplicates(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            try store.insertFactors([(factor("MOM5"), version("MOM5", 1, "Ref($close,5)/$close"))], actor: "alice", action: "register")
            let f = try #require(try store.factor(code: "MOM5"))
            #expect(f.status == .draft && f.latestVersion == 1 && f.tags == ["x"])
            #expect(try store.versions(code: "MOM5").map(\.expression) == ["Ref($close,5)/$close"])
            #expect(try store.factor(code: "NOPE") == nil)
            // A batch with one duplicate inserts nothing.
            #expect(throws: StoreError.duplicateCode("MOM5")) {
                try store.insertFactors([(factor("NEW1"), version("NEW1", 1, "$open")), (factor("MOM5"), version("MOM5", 1, "$close"))],
                                        actor: "bob", action: "register")
            }
            #expect(try store.factor(code: "NEW1") == nil)
            #expect(try store.audit(entity: nil, limit: 100).count == 1)
        }
    }

    @Test(arguments: Backend.available)
    func versionsStatusAndAudit(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            try store.insertFactors([(factor("F"), version("F", 1, "$close"))], actor: "alice", action: "register")
            _ = try store.updateStatus(code: "F", from: [.draft], to: .inReview, actor: "alice", action: "submit-review")
            let approved = try store.updateStatus(code: "F", from: [.inReview], to: .approved, actor: "rita", action: "approve")
            #expect(approved.status == .approved)
            #expect(throws: StoreError.invalidTransition(code: "F", from: .approved, to: .inReview)) {
                try store.updateStatus(code: "F", from: [.draft], to: .inReview, actor: "alice", action: "submit-review")
            }
            let updated = try store.appendVersion(version("F", 2, "$open"), status: .draft, actor: "alice", action: "update")
            #expect(updated.latestVersion == 2 && updated.status == .draft)
            #expect(throws: StoreError.self) { try store.appendVersion(version("F", 2, "$high"), status: nil, actor: "a", action: "update") }
            #expect(throws: StoreError.unknownFactor("G")) { try store.appendVersion(version("G", 2, "$high"), status: nil, actor: "a", action: "update") }
            #expect(try store.versions(code: "F").map(\.version) == [1, 2])
            let log = try store.audit(entity: "F", limit: 10)
            #expect(log.map(\.action) == ["update", "approve", "submit-review", "register"])
            #expect(log[0].before?.contains("\"expression\":\"$close\"") == true)
            #expect(log[0].after?.contains("\"expression\":\"$open\"") == true)
            #expect(log[1].actor == "rita")
            #expect(try store.factorsWithLatestHash("h-$open").map(\.code) == ["F"])
            #expect(try store.factorsWithLatestHash("h-$close").isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func listingFilters(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            try store.insertFactors([(factor("A", category: "momentum", owner: "alice", tags: ["fast"]), version("A", 1, "$close")),
                                     (factor("B", category: "volatility", owner: "bob", tags: ["slow", "risk"]), version("B", 1, "$open")),
                                     (factor("C", category: "momentum", owner: "bob", tags: []), version("C", 1, "$high"))],
                                    actor: "seed", action: "seed")
            _ = try store.updateStatus(code: "C", from: [.draft], to: .deprecated, actor: "bob", action: "deprecate")
            #expect(try store.factors(matching: FactorFilter()).map(\.code) == ["A", "B", "C"])
            #expect(try store.factors(matching: FactorFilter(category: "momentum")).map(\.code) == ["A", "C"])
            #expect(try store.factors(matching: FactorFilter(owner: "bob")).map(\.code) == ["B", "C"])
            #expect(try store.factors(matching: FactorFilter(tag: "risk")).map(\.code) == ["B"])
            #expect(try store.factors(matching: FactorFilter(status: .deprecated)).map(\.code) == ["C"])
        }
    }

    @Test(arguments: Backend.available)
    func savingTheSameRunTwiceKeepsOneCopy(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            let run = RunRecord(runId: "run-1", createdAt: Clock.now(), kind: "evaluate", parameters: "{}")
            let first = [(result("run-1", "A"), seriesRows), (result("run-1", "A", horizon: 5), seriesRows)]
            try store.saveResults(run: run, results: first, actor: "alice")
            var changed = result("run-1", "A", rankICIR: 0.7)
            changed.n = 250
            changed.industryIC = [IndustryICRecord(industry: "J66", rows: 240, icMean: 0.02, rankICMean: .nan),
                                  IndustryICRecord(industry: "C39", rows: 12, icMean: -0.01, rankICMean: 0.03)]
            try store.saveResults(run: run, results: [(changed, Array(seriesRows.prefix(1)))], actor: "alice")
            let all = try store.results(matching: ResultFilter(runId: "run-1"))
            #expect(all.count == 2)
            let h1 = try #require(all.first { $0.key.horizon == 1 })
            #expect(h1 == changed)  // replaced in place, NaN figures read back as NaN
            #expect(h1.groupMeans.count == 3 && h1.groupMeans[1].isNaN)
            #expect(h1.industryIC.count == 2 && h1.industryIC[0].rankICMean.isNaN && h1.industryIC[1].industry == "C39")
            #expect(h1.decay.count == 3 && h1.decay[0] == 0.05 && h1.decay[1].isNaN)
            let stored = try store.series(key: result("run-1", "A", horizon: 5).key)
            #expect(stored.first?.members == nil && stored.last?.members == 300 && stored.last?.withReturn == 285)
            #expect(try store.series(key: changed.key) == Array(seriesRows.prefix(1)))
            #expect(try store.series(key: result("run-1", "A", horizon: 5).key) == seriesRows)
            #expect(try store.runs().map(\.runId) == ["run-1"])
            #expect(try store.results(matching: ResultFilter(horizon: 5)).count == 1)
            #expect(try store.results(matching: ResultFilter(from: "2021-01-01")).isEmpty)
            #expect(try store.results(matching: ResultFilter(from: "2020-06-01", to: "2020-06-30")).count == 2)
        }
    }

    @Test(arguments: Backend.available)
    func leaderboardTakesEachFactorsLatestResult(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            let old = RunRecord(runId: "r1", createdAt: Clock.now(), kind: "evaluate", parameters: "{}")
            try store.saveResults(run: old, results: [(result("r1", "A", rankICIR: 0.9), []), (result("r1", "B", rankICIR: 0.2), [])], actor: "a")
            let new = RunRecord(runId: "r2", createdAt: Clock.now(), kind: "evaluate", parameters: "{}")
            var failed = result("r2", "C")
            failed.error = "boom"
            try store.saveResults(run: new, results: [(result("r2", "A", rankICIR: 0.1), []), (result("r2", "D", rankICIR: .nan), []), (failed, [])], actor: "a")
            let board = try store.leaderboard(LeaderboardQuery(top: 10, metric: "rank_icir", horizon: 1))
            #expect(board.map(\.key.factorCode) == ["B", "A", "D"])  // A's latest is 0.1; D's NaN last; failed C left out
            #expect(board[1].key.runId == "r2")
            #expect(try store.leaderboard(LeaderboardQuery(top: 1)).count == 1)
            #expect(try store.leaderboard(LeaderboardQuery(top: 10, start: "2020-01-02", end: "2020-12-31")).count == board.count)
            #expect(try store.leaderboard(LeaderboardQuery(top: 10, start: "2021-01-04")).isEmpty)
            #expect(throws: StoreError.self) { try store.leaderboard(LeaderboardQuery(metric: "rank_icir; DROP TABLE results")) }
            // A neutralized result of A (another settings hash) ranks beside its raw one instead of replacing it.
            var neutral = result("r3", "A", rankICIR: 0.5)
            neutral.key.settingsHash = "s2"
            try store.saveResults(run: RunRecord(runId: "r3", createdAt: Clock.now(), kind: "job", parameters: "{}"), results: [(neutral, [])], actor: "a")
            let both = try store.leaderboard(LeaderboardQuery(top: 10, horizon: 1))
            #expect(both.map(\.key.factorCode) == ["A", "B", "A", "D"] && both.map(\.key.settingsHash) == ["s2", "s1", "s1", "s1"])
            #expect(try store.leaderboard(LeaderboardQuery(top: 10, horizon: 1, settingsHashes: ["s2"])).map(\.key.runId) == ["r3"])
            #expect(try store.leaderboard(LeaderboardQuery(top: 10, horizon: 1, settingsHashes: ["s1"])).map(\.key.factorCode) == ["B", "A", "D"])
            #expect(try store.leaderboard(LeaderboardQuery(top: 10, settingsHashes: [])).isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func concurrentWritersThroughSeparateConnections(backend: Backend) async throws {
        try await blocking {
            let (first, location, cleanup) = try backend.make()
            defer { cleanup() }
            // Two independent handles (as two processes would have) write at once.
            let stores = [first, try StoreLocation.open(location)]
            let failures = FailureBox()
            DispatchQueue.concurrentPerform(iterations: 2) { w in
                for k in 0..<40 {
                    do {
                        let code = "W\(w)_\(k)"
                        try stores[w].insertFactors([(factor(code), version(code, 1, "$close*\(k)"))], actor: "w\(w)", action: "register")
                        let run = RunRecord(runId: "run-\(w)-\(k)", createdAt: Clock.now(), kind: "evaluate", parameters: "{}")
                        try stores[w].saveResults(run: run, results: [(result(run.runId, code), seriesRows)], actor: "w\(w)")
                    } catch {
                        failures.add("\(error)")
                    }
                }
            }
            #expect(failures.all.isEmpty, "\(failures.all.prefix(3))")
            let check = try StoreLocation.open(location)
            #expect(try check.factors(matching: FactorFilter()).count == 80)
            #expect(try check.results(matching: ResultFilter()).count == 80)
            #expect(try check.audit(entity: nil, limit: 1000).count == 160)
        }
    }

    @Test(arguments: Backend.available)
    func aDatabaseMigratedByANewerVersionIsRefused(backend: Backend) async throws {
        try await blocking {
            let (store, location, cleanup) = try backend.make()
            defer { cleanup() }
            try store.insertFactors([(factor("KEEP"), version("KEEP", 1, "$close"))], actor: "alice", action: "register")
            let future = "INSERT INTO factorlab_migrations (id, applied_at) VALUES ('v99-from-the-future', '2030-01-01T00:00:00.000Z')"
            switch backend {
            case .sqlite: try DatabaseQueue(path: location).write { try $0.execute(sql: future) }
            case .postgres: try PostgresAdmin.execute(url: location, [future])
            }
            #expect(throws: StoreError.schemaTooNew(unknown: ["v99-from-the-future"])) { _ = try StoreLocation.open(location) }
            #expect(try store.factor(code: "KEEP") != nil)  // nothing lost
        }
    }

    @Test(arguments: Backend.available)
    func aConcurrentDuplicateRegistrationGetsDuplicateCode(backend: Backend) async throws {
        try await blocking {
            let (first, location, cleanup) = try backend.make()
            defer { cleanup() }
            let stores = [first, try StoreLocation.open(location)]
            let outcomes = FailureBox()
            DispatchQueue.concurrentPerform(iterations: 2) { w in
                for k in 0..<20 {
                    do {
                        try stores[w].insertFactors([(factor("D\(k)"), version("D\(k)", 1, "$close+\(k)"))], actor: "w\(w)", action: "register")
                    } catch let error as StoreError {
                        if error != .duplicateCode("D\(k)") { outcomes.add("\(error)") }
                    } catch {
                        outcomes.add("\(error)")
                    }
                }
            }
            #expect(outcomes.all.isEmpty, "\(outcomes.all.prefix(3))")
            #expect(try first.factors(matching: FactorFilter()).count == 20)
            #expect(try first.audit(entity: nil, limit: 100).count == 20)
        }
    }
}

final class FailureBox: @unchecked Sendable {
    private var items: [String] = []
    private let lock = NSLock()
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

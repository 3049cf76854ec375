import FactorData
import FactorPlatform
import FactorPython
import FactorStore
import Foundation
import Testing

/// Whether this machine has a python with numpy and pandas for the runner.
enum PythonForPlatformTests {
    static let available: Bool = (try? PythonFactorRunner().versions()) != nil
}

/// Python factors through the registry, the queue and workers, against real runner processes.
@Suite("Python factors in the registry and in jobs", .serialized, .enabled(if: PythonForPlatformTests.available,
       "no python with numpy and pandas (run `factorlab python-setup` or set FACTOR_PYTHON); Python factor job tests skipped"))
struct PythonFactorJobTests {
    /// `Ref($close, 20)/$close - 1`, written with numpy.
    static let momentum = """
    import numpy as np

    fields = ["close"]
    lookback = 20


    def factor(data):
        close = data["close"]
        earlier = np.full_like(close, np.nan)
        earlier[:, 20:] = close[:, :-20]
        return earlier / close - 1
    """

    /// `Mean($close, 10)/$close`, written with pandas (rolling over dates, Qlib's min_periods=1).
    static let rollingMean = """
    import pandas as pd

    fields = ["close"]
    lookback = 9


    def factor(data):
        close = pd.DataFrame(data["close"].T)
        return (close.rolling(10, min_periods=1).mean() / close).to_numpy().T
    """

    /// Misbehaves only on more rows than the 250-row warm-up sample has, so it passes registration.
    static func onBigData(_ body: String, imports: String = "") -> String {
        "\(imports)\nfields = [\"close\"]\nlookback = 0\n\ndef factor(data):\n    if data[\"close\"].shape[1] > 300:\n        \(body)\n    return data[\"close\"] * 1.0\n"
    }

    func approve(_ f: Fixture, _ codes: [String]) throws {
        for code in codes {
            try f.registry.lifecycle.submitForReview(code: code, actor: "alice")
            try f.registry.lifecycle.approve(code: code, actor: "rita")
        }
    }

    func request(_ codes: [String], batch: Int) -> JobRequest {
        JobRequest(selection: .codes(codes), includeDrafts: false, windows: [.init(start: "2021-03-01", end: "2022-12-30")],
                   frequencies: ["day"], universes: ["core20"], horizons: [1, 5], batchSize: batch, maxAttempts: 1,
                   dataDirectory: Fixture.dataDirectory, sourceKind: "csv")
    }

    @Test func pythonFactorsStoreWhatTheirExpressionTwinsStoreThroughTwoWorkers() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.registry.register(FactorDraft(code: "MOM20", expression: "Ref($close, 20)/$close - 1"), actor: "alice")
        try f.registry.register(FactorDraft(code: "MA10", expression: "Mean($close, 10)/$close"), actor: "alice")
        let (_, version) = try f.registry.register(FactorDraft(code: "PY_MOM20", expression: Self.momentum, kind: .python), actor: "alice")
        #expect(version.kind == .python && version.hash.count == 64 && version.sampleCells > 0)
        try f.registry.register(FactorDraft(code: "PY_MA10", expression: Self.rollingMean, kind: .python), actor: "alice")
        let codes = ["MOM20", "MA10", "PY_MOM20", "PY_MA10"]
        try approve(f, codes)
        let planned = try JobPlanner.plan(request(codes, batch: 2), store: f.store)
        #expect(planned.tasks.count == 2)
        let (job, _) = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
        // Two workers, each with its own runner process, share the queue.
        let outcomes = OutcomeList()
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            outcomes.add(Worker(store: f.store, options: .init(name: "w\(k)", mode: .untilEmpty, leaseSeconds: 60, pollSeconds: 0.05)).run())
        }
        #expect(outcomes.all.count == 2 && outcomes.all.allSatisfy { $0.status == "SUCCESS" })
        let results = try f.store.results(matching: ResultFilter(runId: job.runId))
        #expect(results.count == 4 * 2 && results.allSatisfy { $0.error == nil })
        for (python, expression) in [("PY_MOM20", "MOM20"), ("PY_MA10", "MA10")] {
            for h in [1, 5] {
                let a = try #require(results.first { $0.key.factorCode == python && $0.key.horizon == h })
                let b = try #require(results.first { $0.key.factorCode == expression && $0.key.horizon == h })
                func close(_ x: Double, _ y: Double) -> Bool { (x.isNaN && y.isNaN) || abs(x - y) <= 1e-12 * max(1, abs(y)) }
                #expect(a.n == b.n && a.inSample == b.inSample, "\(python) h\(h)")
                for (name, x, y) in [("IC", a.icMean, b.icMean), ("Rank IC", a.rankICMean, b.rankICMean), ("ICIR", a.icir, b.icir),
                                     ("LS", a.lsMean, b.lsMean), ("turnover", a.turnoverTop, b.turnoverTop), ("autocorr", a.autocorr, b.autocorr)] {
                    #expect(close(x, y), "\(python) h\(h) \(name): \(x) vs \(y)")
                }
            }
        }
    }

    @Test func aFactorSeesItsOwnLookBackWhateverItsTaskMatesDeclare() throws {
        let f = try Fixture()
        defer { f.remove() }
        // A running sum over every row it is given: its values depend on how many rows come before the window.
        let cumulative = "import numpy as np\nfields = [\"close\"]\nlookback = 5\n\ndef factor(data):\n    r = np.nan_to_num(np.diff(data[\"close\"], axis=1, prepend=np.nan))\n    return np.cumsum(r, axis=1)\n"
        let longer = Self.momentum.replacingOccurrences(of: "lookback = 20", with: "lookback = 120")
            .replacingOccurrences(of: "20:", with: "120:").replacingOccurrences(of: ":-20", with: ":-120")
        try f.registry.register(FactorDraft(code: "PY_CUM", expression: cumulative, kind: .python), actor: "alice")
        try f.registry.register(FactorDraft(code: "PY_MOM120", expression: longer, kind: .python), actor: "alice")
        try approve(f, ["PY_CUM", "PY_MOM120"])
        var stored: [[Double]] = []
        for codes in [["PY_CUM"], ["PY_CUM", "PY_MOM120"]] {
            var request = request(codes, batch: 2)
            request.windows = [.init(start: "2022-01-01", end: "2022-12-30")]
            let planned = try JobPlanner.plan(request, store: f.store)
            let (job, _) = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
            _ = Worker(store: f.store, options: .init(name: "w", mode: .untilEmpty, leaseSeconds: 60, pollSeconds: 0.05)).run()
            let results = try f.store.results(matching: ResultFilter(runId: job.runId)).filter { $0.key.factorCode == "PY_CUM" }
            #expect(results.count == 2 && results.allSatisfy { $0.error == nil })
            stored.append(results.sorted { $0.key.horizon < $1.key.horizon }.flatMap { [$0.icMean, $0.rankICMean, $0.lsMean] })
        }
        #expect(stored[0] == stored[1], "PY_CUM's results changed with a task-mate: \(stored)")
    }

    @Test func misbehavingFactorsFailAloneWithTheirReasonAndTheWorkerServesOn() throws {
        let f = try Fixture()
        defer { f.remove() }
        let drafts: [(String, String)] = [
            ("PY_SLEEP", Self.onBigData("time.sleep(3600)", imports: "import time")),
            ("PY_HOG", Self.onBigData("hoard = [bytearray(50_000_000) for _ in range(1000)]")),
            ("PY_RAISE", Self.onBigData("return 1 / 0")),
            ("PY_EXIT", Self.onBigData("os._exit(1)", imports: "import os")),
            ("PY_MOM20", Self.momentum),
        ]
        for (code, source) in drafts { try f.registry.register(FactorDraft(code: code, expression: source, kind: .python), actor: "alice") }
        try approve(f, drafts.map(\.0))
        let planned = try JobPlanner.plan(request(drafts.map(\.0), batch: 5), store: f.store)
        let (job, _) = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
        var settings = PythonSettings.fromEnvironment()
        settings.timeoutSeconds = 5
        settings.memoryMegabytes = 400
        let python = PythonFactorRunner(settings: settings)
        let outcomes = Worker(store: f.store, options: .init(name: "w", mode: .untilEmpty, leaseSeconds: 120, pollSeconds: 0.05), python: python).run()
        #expect(outcomes.count == 1 && outcomes.first?.status == "SUCCESS")
        let results = try f.store.results(matching: ResultFilter(runId: job.runId))
        func error(_ code: String) -> String { results.first { $0.key.factorCode == code }?.error ?? "no error" }
        #expect(error("PY_SLEEP").contains("ran longer than 5 s (FACTOR_PYTHON_TIMEOUT)"), "\(error("PY_SLEEP"))")
        #expect(error("PY_HOG").contains("memory cap of 400 MB"), "\(error("PY_HOG"))")
        #expect(error("PY_RAISE").contains("ZeroDivisionError") && error("PY_RAISE").contains("PY_RAISE.py\", line 7"), "\(error("PY_RAISE"))")
        #expect(error("PY_EXIT").contains("ended while computing") && error("PY_EXIT").contains("exit status 1"), "\(error("PY_EXIT"))")
        let good = results.filter { $0.key.factorCode == "PY_MOM20" }
        #expect(good.count == 2 && good.allSatisfy { $0.error == nil && $0.n > 100 })
        // The timeout, the memory cap and the exit each ended a process; the raise did not.
        #expect(python.starts == 4)
    }

    @Test func registrationRefusesTheFutureBadSourceMissingFieldsAndDuplicates() throws {
        let f = try Fixture()
        defer { f.remove() }
        let before = try f.snapshot()
        let future = Self.momentum.replacingOccurrences(of: "earlier[:, 20:] = close[:, :-20]", with: "earlier[:, :-20] = close[:, 20:]")
        #expect { try f.registry.register(FactorDraft(code: "PEEK", expression: future, kind: .python), actor: "alice") } throws: {
            "\($0)".contains("reads the future") && "\($0)".contains("when the 20 rows after")
        }
        #expect { try f.registry.register(FactorDraft(code: "SYNTAX", expression: "fields = [\"close\"]\ndef factor(data:\n", kind: .python), actor: "alice") } throws: {
            "\($0)".contains("the Python source is invalid") && "\($0)".contains("SyntaxError") && "\($0)".contains("line 2")
        }
        #expect { try f.registry.register(FactorDraft(code: "NOFIELD", expression: "fields = [\"turnover\"]\ndef factor(data):\n    return data[\"turnover\"]\n", kind: .python), actor: "alice") } throws: {
            "\($0)".contains("declares \"turnover\", which the data lacks")
        }
        #expect { try f.registry.register(FactorDraft(code: "NAN", expression: "import numpy as np\nfields = [\"close\"]\ndef factor(data):\n    return data[\"close\"] * np.nan\n", kind: .python), actor: "alice") } throws: {
            "\($0)".contains("every value is NaN or infinite")
        }
        #expect(try f.snapshot() == before)
        try f.registry.register(FactorDraft(code: "PY_MOM20", expression: Self.momentum, kind: .python), actor: "alice")
        let reformatted = "# the same factor, commented and spaced differently\n" + Self.momentum.replacingOccurrences(of: "lookback = 20", with: "lookback   =   20  # rows")
        #expect { try f.registry.register(FactorDraft(code: "PY_MOM20_AGAIN", expression: reformatted, kind: .python), actor: "alice") } throws: {
            "\($0)".contains("already registered as PY_MOM20")
        }
        // An operator can switch the kind off: Python is refused, expressions are not.
        var off = PythonSettings.fromEnvironment()
        off.enabled = false
        let source = try DataSources.open(directory: Fixture.dataDirectory, kind: .csv, cacheDirectory: f.directory + "/cache")
        let locked = FactorRegistry(store: f.store, validator: try ExpressionValidator(source: source, python: PythonFactorRunner(settings: off)))
        #expect { try locked.register(FactorDraft(code: "PY_OFF", expression: Self.rollingMean, kind: .python), actor: "alice") } throws: {
            "\($0)".contains("FACTOR_PYTHON_FACTORS=off")
        }
        try locked.register(FactorDraft(code: "EXPR_ON", expression: "Mean($close, 7)/$close"), actor: "alice")
        // A new version keeps the kind; a rollback restores the old source and kind.
        try f.registry.update(code: "PY_MOM20", expression: Self.rollingMean, note: "pandas", actor: "alice")
        try f.registry.rollback(code: "PY_MOM20", to: 1, actor: "alice")
        let versions = try f.store.versions(code: "PY_MOM20")
        #expect(versions.map(\.kind) == [.python, .python, .python] && versions[2].expression == Self.momentum && versions[2].hash == versions[0].hash)
    }
}

private final class OutcomeList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Worker.Outcome] = []
    func add(_ more: [Worker.Outcome]) { lock.lock(); list += more; lock.unlock() }
    var all: [Worker.Outcome] { lock.lock(); defer { lock.unlock() }; return list }
}

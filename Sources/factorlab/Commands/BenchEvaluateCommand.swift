import ArgumentParser
import Dispatch
import FactorCore
import FactorData
import FactorEval
import FactorExpr
import Foundation

struct BenchEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Time evaluating a factor set (default: the 158 Alpha158 factors) against forward returns.",
        discussion: "Build with -c release. Default: cn_csi300_daily, universe csi300, 2019-01-02 … 2023-12-29, horizons 1,5,20.")

    @Option(help: "Data directory (default: $FACTOR_DATA_PATH, else ../shared/data/cn_csi300_daily).")
    var data: String?

    @Option(help: "Universe.")
    var universe: String = "csi300"

    @Option(help: "First evaluated date.")
    var start: String = "2019-01-02"

    @Option(help: "Last evaluated date.")
    var end: String = "2023-12-29"

    @Option(help: "Horizons.")
    var horizons: String = "1,5,20"

    @Option(help: "Comma-separated thread counts to measure.")
    var threads: String = "1,2"

    func run() throws {
        let directory = data ?? ProcessInfo.processInfo.environment["FACTOR_DATA_PATH"] ?? "../shared/data/cn_csi300_daily"
        let source = try DataSources.open(directory: directory, kind: nil)
        let expressions = Alpha158.features.map { NamedExpression(name: $0.name, text: $0.expression) }
        let horizonList = horizons.split(separator: ",").compactMap { Int($0) }
        let settings = EvaluationSettings(horizons: horizonList)
        let clock = ContinuousClock()
        var t0 = clock.now
        let available = try source.fieldNames()
        let plan = try FeatureComputation.compile(expressions, fields: nil)
        var loaded = try source.load(DataRequest(universe: try UniverseSpec(parsing: universe),
                                                 fields: Array(Set(plan.fields + ["close"]).filter { available.contains($0) }),
                                                 start: TimeFormat.parse(start), end: TimeFormat.parse(end),
                                                 lookbackRows: plan.lookback.rowsBefore,
                                                 lookaheadRows: max(plan.lookback.rowsAfter, settings.lookaheadRows)))
        for f in plan.fields where !available.contains(f) {
            loaded.data.fields[f] = Panel(instrumentCount: loaded.data.instruments.count, length: loaded.data.calendar.count)
        }
        let loadTime = (clock.now - t0).seconds
        t0 = clock.now
        let panels = try Evaluator().evaluate(plan, on: loaded.data)
        let computeTime = (clock.now - t0).seconds
        t0 = clock.now
        let evaluationUniverse = try EvaluationUniverse(data: loaded.data, window: loaded.outputRows)
        let evaluator = try FactorEvaluator(universe: evaluationUniverse, settings: settings)
        let sharedTime = (clock.now - t0).seconds
        print("data: \(directory), universe \(universe), \(evaluationUniverse.window.count) rows \(start) … \(end), \(loaded.data.instruments.count) instruments, horizons \(horizonList)")
        print(String(format: "load %.3f s; compute 158 factors %.3f s; shared forward returns and orders %.3f s", loadTime, computeTime, sharedTime))
        var rows: [[String]] = []
        var perFactor: [Double] = []
        for n in threads.split(separator: ",").compactMap({ Int($0) }) where n > 0 {
            t0 = clock.now
            let times = TimeSlots(count: panels.count)
            var next = 0
            while next < panels.count {
                let range = next..<min(panels.count, next + n)
                DispatchQueue.concurrentPerform(iterations: range.count) { k in
                    let j = range.lowerBound + k
                    let started = ContinuousClock().now
                    _ = evaluator.evaluate(name: expressions[j].name, factor: panels[j])
                    times.set(j, (ContinuousClock().now - started).seconds)
                }
                next = range.upperBound
            }
            let total = (clock.now - t0).seconds
            if n == 1 { perFactor = times.values }
            rows.append([String(n), String(format: "%.3f", total), String(format: "%.1f", total / Double(panels.count) * 1000)])
        }
        print(Terminal.table(["threads", "evaluate 158 factors s", "ms per factor (wall)"], rows))
        if !perFactor.isEmpty {
            let sorted = perFactor.sorted()
            print(String(format: "single-thread time per factor (3 horizons, decay, monthly): median %.1f ms, p90 %.1f ms, max %.1f ms",
                         sorted[sorted.count / 2] * 1000, sorted[sorted.count * 9 / 10] * 1000, sorted.last! * 1000))
        }
    }
}

/// Per-factor timings written from a parallel loop.
private final class TimeSlots: @unchecked Sendable {
    private var slots: [Double]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: 0, count: count) }
    func set(_ i: Int, _ v: Double) { lock.lock(); slots[i] = v; lock.unlock() }
    var values: [Double] { lock.lock(); defer { lock.unlock() }; return slots }
}

import ArgumentParser
import FactorCore
import FactorData
import FactorEval
import FactorExpr
import Foundation

struct BenchEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Time evaluating a factor set (default: the 158 Alpha158 factors) against forward returns, end to end.",
        discussion: """
        Build with -c release. Default: cn_csi300_daily, universe csi300, 2019-01-02 … 2023-12-29, horizons 1,5,20, \
        with IC decay, monthly tables, quantile groups, turnover and autocorrelation — what `factorlab evaluate` does, \
        timed per phase (load, factor panels, shared returns and ranks, scoring).
        """)

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

    @Option(name: .customLong("repeat"), help: "Repetitions per thread count (the best is reported).")
    var repetitions: Int = 1

    @Flag(help: "Print the figures as JSON (for bench all).")
    var json = false

    /// The figures of one thread count, and of the whole run (`--json`).
    struct Figures: Codable {
        var threads: Int
        var load: Double, compute: Double, shared: Double, evaluate: Double, total: Double
    }

    struct Summary: Codable {
        var factors: Int
        var peakMegabytes: Double
        var figures: [Figures]
    }

    /// alphalens 0.4 on this data: about 4 s per factor for three horizons (issue 12's measurement).
    static let alphalensSecondsPerFactor = 4.0

    func run() throws {
        let directory = data ?? ProcessInfo.processInfo.environment["FACTOR_DATA_PATH"] ?? "../shared/data/cn_csi300_daily"
        let expressions = Alpha158.features.map { NamedExpression(name: $0.name, text: $0.expression) }
        let horizonList = horizons.split(separator: ",").compactMap { Int($0) }
        let threadCounts = threads.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        guard !threadCounts.isEmpty else { throw ValidationError("--threads needs positive integers, e.g. 1,2") }
        var rows: [[String]] = []
        var figures: [Figures] = []
        var oneThread: Double?
        var last: EvaluationReport?
        for n in threadCounts {
            var best: EvaluationTimings?
            for _ in 0..<max(1, repetitions) {
                let source = try DataSources.open(directory: directory, kind: nil)
                let request = EvaluationRequest(universe: try UniverseSpec(parsing: universe), start: TimeFormat.parse(start),
                                                end: TimeFormat.parse(end), factors: .expressions(expressions),
                                                settings: EvaluationSettings(horizons: horizonList), threads: n, allowMissingFields: true)
                let run = try EvaluationRun.run(request, source: source)
                last = run.report
                if best == nil || run.timings.total < best!.total { best = run.timings }
            }
            guard let t = best else { continue }
            figures.append(Figures(threads: n, load: t.load, compute: t.compute, shared: t.shared, evaluate: t.evaluate, total: t.total))
            if n == 1 { oneThread = t.total }
            rows.append([String(n), String(format: "%.3f", t.load), String(format: "%.3f", t.compute), String(format: "%.3f", t.shared),
                         String(format: "%.3f", t.evaluate), String(format: "%.3f", t.total),
                         String(format: "%.1f", t.evaluate / Double(expressions.count) * 1000),
                         oneThread.map { String(format: "%.2f×", $0 / t.total) } ?? "-"])
        }
        if json {
            let summary = Summary(factors: last?.factors.count ?? 0, peakMegabytes: PeakMemory.megabytes, figures: figures)
            print(String(decoding: try JSONEncoder().encode(summary), as: UTF8.self))
            return
        }
        if let report = last {
            print("data: \(directory), universe \(universe), \(report.start) … \(report.end), \(report.instruments) instruments, "
                  + "\(report.factors.count) factors × horizons \(horizonList), decay lags \(report.settings.decayLags)")
        }
        print(Terminal.table(["threads", "load s", "panels s", "shared s", "scoring s", "total s", "scoring ms/factor", "speed-up"], rows))
        print(String(format: "peak memory (max RSS): %.0f MB", PeakMemory.megabytes))
        if let fastest = rows.compactMap({ Double($0[5]) }).min() {
            let alphalens = Self.alphalensSecondsPerFactor * Double(expressions.count)
            print(String(format: "vs alphalens (anchor: %.0f s per factor for three horizons, %.0f s for the set): %.0f× faster",
                         Self.alphalensSecondsPerFactor, alphalens, alphalens / fastest))
        }
    }
}

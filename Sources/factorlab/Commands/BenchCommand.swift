import ArgumentParser
import FactorCore
import FactorData
import FactorExpr
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks that print their own figures.", subcommands: [BenchAllCommand.self, BenchFeaturesCommand.self, BenchEvaluateCommand.self, BenchJobsCommand.self, BenchAPICommand.self, BenchSSECommand.self,
                                                                                         BenchQueueCommand.self, BenchQueueWorkerCommand.self, BenchPythonCommand.self])
}

struct BenchFeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Time loading and evaluating a feature set (default: Alpha158 + label) over a data set.",
        discussion: "Build with -c release for meaningful figures. Default data: ../shared/data/cn_csi300_daily when present.")

    @Option(help: "Data directory (default: $FACTOR_DATA_PATH, else ../shared/data/cn_csi300_daily, else ./stockdata).")
    var data: String?

    @Option(help: "Expression TSV (default: the built-in Alpha158 and its label).")
    var exprFile: String?

    @Option(help: "Universe.")
    var universe: String = "all"

    @Option(help: "Comma-separated thread counts to measure.")
    var threads: String = "1,2"

    @Option(name: .customLong("repeat"), help: "Repetitions per measurement (the best is reported).")
    var repetitions: Int = 3

    @Flag(help: "Also print the time spent per operator (single thread).")
    var profile = false

    @Option(help: "Chunk size target in KiB (values of one node per chunk).")
    var chunkKib: Int = 96

    @Option(help: "Chunks in flight per thread.")
    var wave: Int = 2

    func run() throws {
        let directory = try resolveData()
        let expressions: [NamedExpression]
        if let exprFile {
            guard let text = try? String(contentsOfFile: exprFile, encoding: .utf8) else { throw CLIError("cannot read \(exprFile)") }
            expressions = try ExpressionFile.parse(text, path: exprFile)
        } else {
            expressions = Alpha158.features.map { NamedExpression(name: $0.name, text: $0.expression) }
                + [NamedExpression(name: Alpha158.label.name, text: Alpha158.label.expression)]
        }
        let threadCounts = threads.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        guard !threadCounts.isEmpty else { throw ValidationError("--threads needs positive integers, e.g. 1,2") }
        let cacheDir = NSTemporaryDirectory() + "factorlab-bench-cache-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: cacheDir) }

        let universeSpec = try UniverseSpec(parsing: universe)
        let clock = ContinuousClock()
        var t0 = clock.now
        let coldSource = try DataSources.open(directory: directory, kind: nil, cacheDirectory: cacheDir)
        let fields = try coldSource.fieldNames()
        let plan = try FeatureComputation.compile(expressions, fields: nil)
        let missing = plan.fields.filter { !fields.contains($0) }
        let dataRequest = DataRequest(universe: universeSpec, fields: plan.fields.filter { fields.contains($0) }, lookbackRows: plan.lookback.rowsBefore,
                                      lookaheadRows: plan.lookback.rowsAfter, auxiliary: plan.auxiliaryInstruments,
                                      categories: plan.categories, periodFields: plan.periodFields)
        _ = try coldSource.load(dataRequest)
        let coldLoad = (clock.now - t0).seconds
        var cachedLoad = Double.infinity
        var loaded: LoadedData?
        for _ in 0..<max(1, repetitions) {
            let source = try DataSources.open(directory: directory, kind: nil, cacheDirectory: cacheDir)
            t0 = clock.now
            loaded = try source.load(dataRequest)
            cachedLoad = min(cachedLoad, (clock.now - t0).seconds)
        }
        guard let loaded else { return }
        var data = loaded.data
        for field in missing {
            data.fields[field] = Panel(instrumentCount: data.instruments.count, length: data.calendar.count)
            print("note: the data has no field $\(field); it reads as NaN, as in Qlib")
        }
        let outputRows = FeatureResult(names: expressions.map(\.name), panels: [], data: data, outputRows: loaded.outputRows,
                                       plan: plan, warnings: [], loadSeconds: 0, evaluateSeconds: 0).outputCells().count
        let cells = Double(outputRows * expressions.count)
        print("data: \(directory)")
        print("instruments: \(data.instruments.count), calendar rows: \(data.calendar.count), output rows: \(outputRows), expressions: \(expressions.count), plan nodes: \(plan.operationCount) (after sharing)")
        print(String(format: "load: cold (parse CSV, write cache) %.3f s; cached %.3f s", coldLoad, cachedLoad))
        var rows: [[String]] = []
        var oneThread: Double?
        for n in threadCounts {
            var best = Double.infinity
            for _ in 0..<max(1, repetitions) {
                t0 = clock.now
                var valid = 0
                var none: EvaluationProfile?
                // Streamed chunk by chunk: each chunk's outputs are handed over and dropped, not kept.
                try Evaluator(threads: n, chunkBytes: chunkKib * 1024, waveFactor: wave).forEachChunk(plan, on: data, profile: &none) { chunk in
                    valid += chunk.panels.count * chunk.instruments.count
                }
                best = min(best, (clock.now - t0).seconds)
                precondition(valid > 0)
            }
            if n == 1 { oneThread = best }
            rows.append([String(n), String(format: "%.3f", best), String(format: "%.3f", best + cachedLoad),
                         String(format: "%.1f M", cells / best / 1e6),
                         oneThread.map { String(format: "%.2f×", $0 / best) } ?? "-"])
        }
        print(Terminal.table(["threads", "evaluate s", "load+evaluate s", "cells/s", "speed-up"], rows))
        if profile {
            var table: EvaluationProfile? = EvaluationProfile()
            try Evaluator(threads: 1).forEachChunk(plan, on: data, profile: &table) { _ in }
            let rows = (table?.byOperator ?? [:]).sorted { $0.value.seconds > $1.value.seconds }.map {
                [$0.key, String($0.value.count), String(format: "%.1f", $0.value.seconds * 1000),
                 String(format: "%.2f", $0.value.seconds * 1000 / Double($0.value.count))]
            }
            print(Terminal.table(["operator", "nodes", "total ms", "ms/node"], rows))
        }
        print(String(format: "peak memory (max RSS): %.0f MB", PeakMemory.megabytes))
        if let one = oneThread {
            print(String(format: "vs Qlib 0.9.7 on one core (30–40 s for this work, caches off): %.0f–%.0f× faster end to end",
                         30 / (one + cachedLoad), 40 / (one + cachedLoad)))
        }
    }

    private func resolveData() throws -> String {
        if let data { return data }
        if let env = ProcessInfo.processInfo.environment["FACTOR_DATA_PATH"] { return env }
        for candidate in ["../shared/data/cn_csi300_daily", "stockdata"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw CLIError("no data: pass --data DIR (for example ../shared/data/cn_csi300_daily)")
    }
}

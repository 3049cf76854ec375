import ArgumentParser
import FactorExpr
import Foundation

/// Every performance figure of the README, measured in one run against its goal, with Qlib, alphalens and Polars
/// measured beside it when their venv is there.
struct BenchAllCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all",
        abstract: "Measure every performance figure against its goal, and Qlib, alphalens and Polars on the same work.",
        discussion: """
        Build with -c release. Each figure is a separate process of this binary, timed from start to exit with its own \
        peak memory; one core means `taskset -c 0`, and the one- and two-core runs take turns so that their ratio \
        compares runs made under the same load of a shared machine. The peers run from the venv that bench/peers/setup.sh makes \
        (--peers or $FACTOR_PEERS_VENV); without it, their figures are the anchors measured before, labelled as such.
        """)

    @Option(help: "Data directory (default: $FACTOR_DATA_PATH, else ../shared/data/cn_csi300_daily).")
    var data: String?

    @Option(help: "The peers' venv (bench/peers/setup.sh prints it; default $FACTOR_PEERS_VENV).")
    var peers: String?

    @Option(name: .customLong("repeat"), help: "Runs per figure (the fastest counts).")
    var repetitions: Int = 3

    @Option(help: "Also write the table as Markdown to this file (the README's performance section).")
    var report: String?

    /// Measured before, on this machine's kind (issue 12): used when the peers' venv is absent.
    static let anchors = (qlibFeatures: 30.0, alphalensPerFactor: 4.0)

    func run() throws {
        let directory = data ?? ProcessInfo.processInfo.environment["FACTOR_DATA_PATH"] ?? "../shared/data/cn_csi300_daily"
        guard FileManager.default.fileExists(atPath: directory) else { throw CLIError("no data at \(directory): pass --data DIR") }
        let me = try Self.executable()
        let work = NSTemporaryDirectory() + "factorlab-bench-all-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        // Alpha158 and its label, as Qlib's handler defines them.
        let alpha158 = work + "/alpha158.tsv"
        try Self.writeTSV(Alpha158.features.map { ($0.name, $0.expression) } + [(Alpha158.label.name, Alpha158.label.expression)], to: alpha158)
        let oneCore = ["taskset", "-c", "0"]
        func featuresCommand(_ expressions: String, _ extra: [String], cores: Int) -> [String] {
            (cores == 1 ? oneCore : []) + [me, "features", "--data", directory, "--universe", "csi300",
                                           "--expr-file", expressions, "--allow-missing-fields"] + extra
        }
        func features(_ expressions: String, _ extra: [String], cores: Int) throws -> MeasuredRun {
            try MeasuredRun.best(of: repetitions, featuresCommand(expressions, extra, cores: cores))
        }
        /// One core and two taking turns: the ratio compares runs made under the same load of the shared machine.
        func oneAndTwoCores(_ expressions: String, _ extra: [String]) throws -> (MeasuredRun, MeasuredRun) {
            let runs = try MeasuredRun.bestInTurns(of: repetitions, [featuresCommand(expressions, extra, cores: 1),
                                                                     featuresCommand(expressions, extra, cores: 2)])
            return (runs[0], runs[1])
        }
        Terminal.info("features --stats (Alpha158 + label, csi300), one core and two, in turns …")
        let (stats1, stats2) = try oneAndTwoCores(alpha158, ["--stats"])
        Terminal.info("features --out CSV and Parquet …")
        let csvPath = work + "/features.csv", parquetPath = work + "/features.parquet"
        let csv1 = try features(alpha158, ["--out", csvPath], cores: 1), csv2 = try features(alpha158, ["--out", csvPath], cores: 2)
        let csvBytes = Double((try FileManager.default.attributesOfItem(atPath: csvPath)[.size] as? Int) ?? 0)
        let parquet1 = try features(alpha158, ["--out", parquetPath], cores: 1)
        let parquetBytes = Double((try FileManager.default.attributesOfItem(atPath: parquetPath)[.size] as? Int) ?? 0)
        try? FileManager.default.removeItem(atPath: csvPath)
        Terminal.info("bench evaluate (158 factors × horizons 1/5/20) …")
        let evaluateRun = try MeasuredRun.run([me, "bench", "evaluate", "--data", directory, "--threads", "1,2", "--repeat", "2", "--json"])
        let evaluation = try JSONDecoder().decode(BenchEvaluateCommand.Summary.self, from: Data(evaluateRun.stdout.utf8))
        Terminal.info("bench jobs …")
        let jobsRun = try MeasuredRun.run([me, "bench", "jobs", "--data", directory, "--json"])
        let jobs = try JSONDecoder().decode(BenchJobsCommand.Summary.self, from: Data(jobsRun.stdout.utf8))

        var peerFigures: PeerFigures?
        var polarsSubset: (one: MeasuredRun, two: MeasuredRun)?
        if let venv = peers ?? ProcessInfo.processInfo.environment["FACTOR_PEERS_VENV"], !venv.isEmpty {
            Terminal.info("peers from \(venv): Qlib, alphalens and Polars on the same work (about a minute) …")
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../bench/peers/peers.py").standardized.path
            let located = FileManager.default.fileExists(atPath: script) ? script : "bench/peers/peers.py"
            let run = try MeasuredRun.run([venv + "/bin/python", located, "--data", directory, "--expressions", alpha158, "--work", work + "/peers"])
            peerFigures = try JSONDecoder().decode(PeerFigures.self, from: Data(run.stdout.utf8))
            // FactorLab on exactly the expressions Polars computed.
            if let names = peerFigures?.polarsNames {
                let subset = work + "/polars-subset.tsv"
                let all = Dictionary(uniqueKeysWithValues: (Alpha158.features.map { ($0.name, $0.expression) } + [(Alpha158.label.name, Alpha158.label.expression)]))
                try Self.writeTSV(names.compactMap { name in all[name].map { (name, $0) } }, to: subset)
                polarsSubset = try oneAndTwoCores(subset, ["--stats"])
            }
        }

        // The table.
        let qlib = peerFigures?.qlibFeaturesSeconds ?? Self.anchors.qlibFeatures
        let qlibLabel = peerFigures == nil ? "Qlib 0.9.7 (anchor, not measured in this run)" : "Qlib \(peerFigures!.versions["qlib"] ?? "")"
        let alphalens = peerFigures?.alphalensSecondsPerFactor ?? Self.anchors.alphalensPerFactor
        let alphalensLabel = peerFigures == nil ? "alphalens (anchor, not measured in this run)" : "alphalens \(peerFigures!.versions["alphalens"] ?? "")"
        let evaluate1 = evaluation.figures.first { $0.threads == 1 }, evaluate2 = evaluation.figures.first { $0.threads == 2 }
        let outputCost = csv1.seconds - stats1.seconds
        var rows: [Row] = []
        rows.append(Row(step: "features --stats, Alpha158 + label, csi300, one core (whole process)", value: stats1.seconds, unit: "s",
                        goal: "< 0.6 s", met: stats1.seconds < 0.6,
                        peer: String(format: "%@ %.1f s: %.0f× faster", qlibLabel, qlib, qlib / stats1.seconds)))
        rows.append(Row(step: "the same on two cores", value: stats2.seconds, unit: "s", goal: "≥ 1.8× one core",
                        met: stats1.seconds / stats2.seconds >= 1.8, peer: String(format: "%.2f× the one-core speed", stats1.seconds / stats2.seconds)))
        rows.append(Row(step: String(format: "features --out CSV (%.2f GB), one core", csvBytes / 1e9), value: csv1.seconds, unit: "s",
                        goal: "output costs less than Qlib's computation", met: outputCost < qlib,
                        peer: String(format: "output %.2f s over --stats: %.0f MB/s per core (goal ≥ 150); two cores %.2f s",
                                     outputCost, csvBytes / 1e6 / max(outputCost, 1e-9), csv2.seconds)))
        rows.append(Row(step: String(format: "features --out Parquet (%.0f MB, Snappy), one core", parquetBytes / 1e6), value: parquet1.seconds,
                        unit: "s", goal: "—", met: nil, peer: ""))
        if let e1 = evaluate1, let e2 = evaluate2 {
            rows.append(Row(step: "evaluate 158 factors × horizons 1/5/20 (decay, monthly, groups, turnover), one core", value: e1.total, unit: "s",
                            goal: "—", met: nil,
                            peer: String(format: "%@ %.1f s/factor: %.0f s for the set, %.0f× slower", alphalensLabel, alphalens,
                                         alphalens * Double(evaluation.factors), alphalens * Double(evaluation.factors) / e1.total)))
            rows.append(Row(step: "the same on two cores (load, factor panels, shared returns, scoring)", value: e2.total, unit: "s",
                            goal: "< 2 s", met: e2.total < 2,
                            peer: String(format: "load %.2f + panels %.2f + shared %.2f + scoring %.2f s", e2.load, e2.compute, e2.shared, e2.evaluate)))
        }
        rows.append(Row(step: "peak memory of that evaluation", value: evaluateRun.peakMegabytes, unit: "MB", goal: "< 1 GB",
                        met: evaluateRun.peakMegabytes < 1024, peer: ""))
        rows.append(Row(step: String(format: "bench jobs: storing a task's %d results and series (one worker)", jobs.resultsPerTask),
                        value: jobs.storeShare * 100, unit: "% of the task", goal: "< 10%", met: jobs.storeShare < 0.1,
                        peer: String(format: "%.1f of %.0f ms per task; wall %.2f s (1 worker), %.2f s (2)", jobs.storeMilliseconds,
                                     jobs.taskMilliseconds, jobs.wallSeconds[1] ?? .nan, jobs.wallSeconds[2] ?? .nan)))
        if let peer = peerFigures, let subset = polarsSubset {
            rows.append(Row(step: "features --stats on the \(peer.polarsExpressions) expressions Polars has operators for, one core",
                            value: subset.one.seconds, unit: "s", goal: "—", met: nil,
                            peer: String(format: "Polars %@ %.2f s: %.0f× faster", peer.versions["polars"] ?? "", peer.polarsSeconds1,
                                         peer.polarsSeconds1 / subset.one.seconds)))
            rows.append(Row(step: "the same on two cores", value: subset.two.seconds, unit: "s", goal: "—", met: nil,
                            peer: String(format: "Polars %.2f s: %.0f× faster", peer.polarsSeconds2, peer.polarsSeconds2 / subset.two.seconds)))
        }
        print(Terminal.table(["figure", "FactorLab", "goal", "met", "beside it"], rows.map { r in
            [r.step, String(format: "%.3f %@", r.value, r.unit), r.goal, r.met.map { $0 ? "yes" : "NO" } ?? "", r.peer]
        }))
        print(String(format: "peak memory: features --stats %.0f MB (one core), --out CSV %.0f MB; evaluate %.0f MB; peers %@",
                     stats1.peakMegabytes, csv1.peakMegabytes, evaluateRun.peakMegabytes,
                     peerFigures.map { p in p.versions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") } ?? "not run"))
        if let report {
            let date = ISO8601DateFormatter().string(from: Date()).prefix(10)
            var lines = ["Measured \(date) with `factorlab bench all\(peerFigures == nil ? "" : " --peers …")` (release build, 2 cores):", "",
                         "| figure | FactorLab | goal | met | beside it |", "|---|---|---|---|---|"]
            for r in rows {
                lines.append("| \(r.step) | \(String(format: "%.3f", r.value)) \(r.unit) | \(r.goal) | \(r.met.map { $0 ? "yes" : "**no**" } ?? "") | \(r.peer) |")
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: report, atomically: true, encoding: .utf8)
        }
    }

    struct Row {
        var step: String
        var value: Double
        var unit: String
        var goal: String
        var met: Bool?
        var peer: String
    }

    /// What bench/peers/peers.py prints.
    struct PeerFigures: Decodable {
        var qlibFeaturesSeconds: Double
        var alphalensSecondsPerFactor: Double
        var alphalensFactors: Int
        var polarsSeconds1: Double
        var polarsSeconds2: Double
        var polarsExpressions: Int
        var polarsNames: [String]
        var versions: [String: String]

        enum CodingKeys: String, CodingKey {
            case qlibFeaturesSeconds = "qlib_features_seconds", alphalensSecondsPerFactor = "alphalens_seconds_per_factor"
            case alphalensFactors = "alphalens_factors", polarsSeconds1 = "polars_seconds_1", polarsSeconds2 = "polars_seconds_2"
            case polarsExpressions = "polars_expressions", polarsNames = "polars_names", versions
        }
    }

    static func writeTSV(_ expressions: [(String, String)], to path: String) throws {
        try ("name\texpression\n" + expressions.map { "\($0.0)\t\($0.1)" }.joined(separator: "\n") + "\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// This binary's own path (children of the benchmark run the same build).
    static func executable() throws -> String {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return path
    }
}

import ArgumentParser
import FactorStore
import Foundation

struct LeaderboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "leaderboard", abstract: "The best factors by a metric (each factor's latest result).")
    @OptionGroup var store: StoreOptions
    @Option var top: Int = 10
    @Option(help: "Metric: \(ResultRecord.metricNames.joined(separator: ", ")).") var by: String = "rank_icir"
    @Option var universe: String?
    @Option var freq: String?
    @Option var horizon: Int?
    @Option(help: "Only results whose window starts on this date (rank every factor on the same period).") var start: String?
    @Option(help: "Only results whose window ends on this date.") var end: String?

    func run() throws {
        let rows = try store.openStore().leaderboard(LeaderboardQuery(top: top, metric: by, universe: universe, frequency: freq, horizon: horizon,
                                                                        start: start, end: end))
        if store.json { try store.printJSON(rows); return }
        print(Terminal.table(["#", "factor", "v", "universe", "freq", "h", "n", by, "RankIC", "IC", "LS Sharpe", "run"],
                             rows.enumerated().map { k, r in
                                 [String(k + 1), r.key.factorCode, String(r.key.factorVersion), r.key.universe, r.key.frequency,
                                  String(r.key.horizon), String(r.n), Terminal.number(r.figures.first { $0.0 == by }?.1 ?? .nan),
                                  Terminal.number(r.rankICMean), Terminal.number(r.icMean), Terminal.number(r.lsSharpe),
                                  String(r.key.runId.prefix(8))]
                             }))
    }
}

struct ExportResultsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export-results", abstract: "Export stored results as CSV or JSON.")
    @OptionGroup var store: StoreOptions
    @Option(help: "csv or json.") var format: String = "csv"
    @Option(help: "Output file (default: stdout).") var out: String?
    @Option var factor: String?
    @Option(name: .customLong("run")) var runId: String?
    @Option var universe: String?
    @Option var freq: String?
    @Option var horizon: Int?

    func run() throws {
        let results = try store.openStore().results(matching: ResultFilter(factorCode: factor, runId: runId, universe: universe,
                                                                           frequency: freq, horizon: horizon))
        let text: String
        switch format.lowercased() {
        case "csv":
            let q = results.map(\.groupMeans.count).max() ?? 0
            var lines = [(["run_id", "factor", "version", "universe", "frequency", "start", "end", "horizon", "settings_hash",
                           "created_at", "delay", "quantiles", "n"] + ResultRecord.metricNames + (0..<q).map { "q\($0 + 1)_mean" }
                          + ["rows", "rows_no_ic", "member_rows", "with_factor", "with_return", "in_sample", "error"]).joined(separator: ",")]
            for r in results {
                var cells = [r.key.runId, r.key.factorCode, String(r.key.factorVersion), r.key.universe, r.key.frequency, r.key.start,
                             r.key.end, String(r.key.horizon), r.key.settingsHash, r.createdAt, String(r.delay), String(r.quantiles), String(r.n)]
                cells += r.figures.map { $0.1.isFinite ? $0.1.description : "" }
                cells += (0..<q).map { $0 < r.groupMeans.count && r.groupMeans[$0].isFinite ? r.groupMeans[$0].description : "" }
                cells += [r.rows, r.rowsNoIC, r.memberRows, r.withFactor, r.withReturn, r.inSample].map(String.init)
                cells.append((r.error ?? "").replacingOccurrences(of: ",", with: ";").replacingOccurrences(of: "\n", with: " "))
                lines.append(cells.joined(separator: ","))
            }
            text = lines.joined(separator: "\n") + "\n"
        case "json":
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "NaN")
            text = String(decoding: try encoder.encode(results), as: UTF8.self)
                .replacingOccurrences(of: "\"NaN\"", with: "null").replacingOccurrences(of: "\"inf\"", with: "null")
                .replacingOccurrences(of: "\"-inf\"", with: "null") + "\n"
        default:
            throw ValidationError("--format must be csv or json")
        }
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8)) else { throw CLIError("cannot write \(out)") }
            Terminal.info("exported \(results.count) results to \(out)")
        } else {
            print(text, terminator: "")
        }
    }
}

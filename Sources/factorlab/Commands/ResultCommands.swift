import ArgumentParser
import FactorCore
import FactorPlatform
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
    @Option(help: "Only results evaluated with these settings: raw, or as the settings column writes them (e.g. 'winsorize mad:3 · neutralize industry · zscore'), or a settings hash.")
    var settings: String?

    func run() throws {
        let db = try store.openStore()
        let labels = SettingsLabels.labels(try db.runs())
        var hashes: [String]?
        if let settings {
            hashes = SettingsLabels.hashes(matching: settings, in: labels)
            if hashes!.isEmpty {
                throw ValidationError("no stored results were evaluated with settings '\(settings)'; stored: \(Set(labels.values).sorted().joined(separator: "; "))")
            }
        }
        let rows = try db.leaderboard(LeaderboardQuery(top: top, metric: by, universe: universe, frequency: freq, horizon: horizon,
                                                       start: start, end: end, settingsHashes: hashes))
        if store.json { try store.printJSON(rows); return }
        print(Terminal.table(["#", "factor", "v", "universe", "freq", "h", "settings", "n", by, "RankIC", "IC", "LS Sharpe", "run"],
                             rows.enumerated().map { k, r in
                                 [String(k + 1), r.key.factorCode, String(r.key.factorVersion), r.key.universe, r.key.frequency,
                                  String(r.key.horizon), labels[r.key.settingsHash] ?? String(r.key.settingsHash.prefix(8)), String(r.n), Terminal.number(r.figures.first { $0.0 == by }?.1 ?? .nan),
                                  Terminal.number(r.rankICMean), Terminal.number(r.icMean), Terminal.number(r.lsSharpe),
                                  String(r.key.runId.prefix(8))]
                             }))
    }
}

struct ExportResultsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export-results", abstract: "Export stored results as CSV or JSON.")
    @OptionGroup var store: StoreOptions
    @Option(help: "csv, json or parquet (parquet needs --out).") var format: String = "csv"
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
        case "csv", "parquet":
            let table = Self.table(results)
            if format.lowercased() == "parquet" {
                guard let out else { throw ValidationError("--format parquet needs --out FILE.parquet (it is binary)") }
                try TableFile.write(table, to: out, parquet: true)
                if !out.lowercased().hasSuffix(".parquet") { Terminal.info("note: \(out) holds Parquet; name it .parquet for other tools") }
                Terminal.info("exported \(results.count) results to \(out)")
                return
            }
            text = table.csv()
        case "json":
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "NaN")
            text = String(decoding: try encoder.encode(results), as: UTF8.self)
                .replacingOccurrences(of: "\"NaN\"", with: "null").replacingOccurrences(of: "\"inf\"", with: "null")
                .replacingOccurrences(of: "\"-inf\"", with: "null") + "\n"
        default:
            throw ValidationError("--format must be csv, json or parquet")
        }
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8)) else { throw CLIError("cannot write \(out)") }
            Terminal.info("exported \(results.count) results to \(out)")
        } else {
            print(text, terminator: "")
        }
    }

    /// One row per stored result: its key, figures (non-finite as empty), quantile means and coverage.
    static func table(_ results: [ResultRecord]) -> DataTable {
        let q = results.map(\.groupMeans.count).max() ?? 0
        var table = DataTable()
        func strings(_ name: String, _ pick: (ResultRecord) -> String) { table.add(name, .strings(results.map(pick))) }
        func integers(_ name: String, _ pick: (ResultRecord) -> Int) { table.add(name, .integers(results.map { Int64(pick($0)) })) }
        func finite(_ v: Double) -> Double { v.isFinite ? v : .nan }
        strings("run_id") { $0.key.runId }
        strings("factor") { $0.key.factorCode }
        integers("version") { $0.key.factorVersion }
        strings("universe") { $0.key.universe }
        strings("frequency") { $0.key.frequency }
        table.add("start", .times(results.map(\.key.start)))
        table.add("end", .times(results.map(\.key.end)))
        integers("horizon") { $0.key.horizon }
        strings("settings_hash") { $0.key.settingsHash }
        strings("created_at") { $0.createdAt }
        integers("delay") { $0.delay }
        integers("quantiles") { $0.quantiles }
        integers("n") { $0.n }
        for (k, name) in ResultRecord.metricNames.enumerated() {
            table.add(name, .doubles(results.map { finite($0.figures[k].1) }))
        }
        for g in 0..<q {
            table.add("q\(g + 1)_mean", .doubles(results.map { g < $0.groupMeans.count ? finite($0.groupMeans[g]) : .nan }))
        }
        integers("rows") { $0.rows }
        integers("rows_no_ic") { $0.rowsNoIC }
        integers("member_rows") { $0.memberRows }
        integers("with_factor") { $0.withFactor }
        integers("with_return") { $0.withReturn }
        integers("in_sample") { $0.inSample }
        strings("error") { ($0.error ?? "").replacingOccurrences(of: ",", with: ";").replacingOccurrences(of: "\n", with: " ") }
        return table
    }
}

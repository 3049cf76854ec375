import ArgumentParser
import FactorCore
import FactorData
import FactorEval
import FactorExpr
import FactorPlatform
import FactorStore
import Foundation

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score factors against forward returns: IC, Rank IC, quantile groups, long-short, turnover, decay, coverage.",
        discussion: """
        Factors come from expressions (--expr, --expr-file, --library), Python factor files (--python), or values
        computed elsewhere (--values: a CSV instrument,datetime,<factor columns>, as `factorlab features` writes it).
        Definitions: spec/evaluation.md; Python factors: docs/python-factors.md.
        """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var expressionOptions: ExpressionOptions
    @OptionGroup var evaluationFlags: EvaluationOptionFlags

    @Option(help: "Evaluate values computed elsewhere: CSV instrument,datetime,<one column per factor> (may be .gz).")
    var values: String?

    @Option(name: .customLong("python"), help: "A Python factor file (repeatable): NAME=FILE.py, or FILE.py named by its stem (docs/python-factors.md).")
    var pythonFiles: [String] = []

    @Option(help: "Evaluate registered factors (their current versions): CODE[,CODE…].")
    var factor: String?

    @Flag(help: "Store the results in the database under a new run id (leaderboard and show-factor see them).")
    var save = false

    @Option(help: "Run id to save under (default: a new UUID); saving the same run id again replaces its results.")
    var runId: String?

    @Option(help: "The store for --factor and --save: an SQLite file or a postgres:// URL (default: $FACTOR_PLATFORM_DB, else factorlab.db).")
    var db: String?

    @Option(help: "Forward-return horizons in bars, comma-separated.")
    var horizons: String = "1,5,20"

    @Option(help: "Entry delay d in bars: returns run from the close of t+d to t+d+h (1 = Qlib's label, 0 = alphalens).")
    var delay: Int = 1

    @Option(help: "Number of quantile groups.")
    var quantiles: Int = 5

    @Option(help: "Write the summary table (one row per factor × horizon) to this CSV.")
    var summary: String?

    @Option(help: "Write the per-date series (one row per factor × horizon × date) to this CSV, or Parquet when it ends in .parquet.")
    var series: String?

    @Option(help: "Write the whole report as JSON (NaN as null).")
    var json: String?

    @Option(help: "Write a self-contained HTML report (inline SVG charts).")
    var html: String?

    @Flag(help: "Let a field the data lacks read as NaN, with a warning, instead of failing.")
    var allowMissingFields = false

    @Option(help: "Threads (default: all cores, or $FACTOR_THREADS).")
    var threads: Int?

    func run() throws {
        let factors: FactorInput
        var identities: [String: ResultRecorder.FactorIdentity] = [:]
        let sources = [values != nil, !expressionOptions.isEmpty, factor != nil, !pythonFiles.isEmpty].filter { $0 }.count
        guard sources == 1 else {
            throw ValidationError(sources == 0 ? "give factors: --factor CODE, --expr NAME=EXPRESSION, --expr-file FILE.tsv, --python FILE.py or --values FILE.csv"
                                               : "give one of --factor, --expr/--expr-file/--library, --python and --values")
        }
        var python: PythonFactorFiles?
        if !pythonFiles.isEmpty {
            python = try PythonFactorFiles(pythonFiles)
            factors = .computed(python!.computed)
        } else if let values {
            factors = .values(path: values)
        } else if let factor {
            let store = try StoreLocation.open(StoreLocation.resolve(db))
            var named: [NamedExpression] = []
            var pythonSources: [(name: String, filename: String, source: String)] = []
            for code in factor.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !code.isEmpty {
                guard let record = try store.factor(code: code), let current = try store.versions(code: code).last else {
                    throw StoreError.unknownFactor(code)
                }
                if current.kind == .python {
                    pythonSources.append((code, "\(code).py", current.expression))
                } else {
                    named.append(NamedExpression(name: code, text: current.expression))
                }
                identities[code] = ResultRecorder.FactorIdentity(code: code, version: record.latestVersion)
            }
            if !pythonSources.isEmpty {
                guard named.isEmpty else {
                    throw ValidationError("evaluate expression factors (\(named.map(\.name).joined(separator: ", "))) and Python factors "
                                          + "(\(pythonSources.map(\.name).joined(separator: ", "))) in separate calls, or together in a job")
                }
                python = try PythonFactorFiles(sources: pythonSources)
                factors = .computed(python!.computed)
            } else {
                factors = .expressions(named)
            }
        } else {
            factors = .expressions(try expressionOptions.named(source: try expressionOptions.selectedLibrary() == nil ? nil : try dataOptions.openSource()))
        }
        let horizonList = try horizons.split(separator: ",").map { part -> Int in
            guard let h = Int(part.trimmingCharacters(in: .whitespaces)), h >= 1 else {
                throw ValidationError("--horizons must be positive integers such as 1,5,20; '\(part)' is not")
            }
            return h
        }
        let source = try dataOptions.openSource()
        let options = evaluationFlags.options.withIndustryDefault(directory: source.directory)
        let label = options.label
        let settings: EvaluationSettings
        do { settings = try options.settings(horizons: horizonList, delay: delay, quantiles: quantiles) } catch {
            throw ValidationError(error.description)
        }
        let request = EvaluationRequest(universe: try dataOptions.universeSpec(), start: try dataOptions.startTime(),
                                        end: try dataOptions.endTime(), frequency: try dataOptions.frequency(),
                                        factors: factors, settings: settings, industryFile: options.industry,
                                        threads: threads ?? Parallel.defaultThreads, allowMissingFields: allowMissingFields,
                                        label: label)
        let clock = ContinuousClock()
        let started = clock.now
        var lastReport = started
        let (report, warnings, _) = try EvaluationRun.run(request, source: source) { done, total in
            if total >= 8 && (clock.now - lastReport > .milliseconds(500) || done == total) {
                Terminal.info("evaluated \(done)/\(total) factors")
                lastReport = clock.now
            }
        }
        for w in warnings { Terminal.info("warning: \(w)") }
        try python?.reportFailures()
        Terminal.info(String(format: "%d factors × %d horizons over %@ → %@ (%d instruments), %@, in %.2f s",
                             report.factors.count, horizonList.count, report.start, report.end, report.instruments,
                             settings.preprocessing.summary, (clock.now - started).seconds))
        print(ReportTables.terminalTable(report))
        if let summary { try write(ReportTables.summaryCSV(report), to: summary) }
        if let series {
            try TableFile.write(ReportTables.seriesTable(report), to: series)
            Terminal.info("wrote \(series)")
        }
        if let json { try writeData(try ReportTables.json(report), to: json) }
        if let html { try write(HTMLReport.render(report), to: html) }
        if save {
            let (store, actor) = try StoreOptions.open(db, for: [.researcher, .reviewer], to: "save results")
            let id = runId ?? UUID().uuidString.lowercased()
            let records = ResultRecorder.records(report, runId: id, identities: identities, label: label)
            try store.saveResults(run: ResultRecorder.run(report, runId: id, kind: "evaluate", options: options), results: records, actor: actor.name)
            Terminal.info("saved \(records.count) results under run \(id) in \(store.locationDescription)")
        }
    }

    private func write(_ text: String, to path: String) throws {
        try writeData(Data(text.utf8), to: path)
    }

    private func writeData(_ data: Data, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: data) else {
            throw CLIError("cannot write \(path): check that its folder exists and is writable")
        }
        Terminal.info("wrote \(path)")
    }
}

import ArgumentParser
import FactorCore
import FactorData
import FactorExpr
import Foundation

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Compute expressions over a universe and write them as CSV (or print health statistics).",
        discussion: """
        Output CSV: header instrument,datetime,<names>; one row per (instrument, date) where the instrument is a
        member of the universe on that date and the date is in [start, end]; sorted by instrument then date; an
        empty cell for NaN, inf/-inf for infinities, shortest round-trip numbers.
        """
    )

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var expressionOptions: ExpressionOptions

    @Option(help: "Output CSV file ('-' for stdout). Default: stdout.")
    var out: String?

    @Flag(help: "Print per-expression statistics (valid, NaN, inf, mean, std, min, max) instead of writing values.")
    var stats = false

    @Flag(help: "Let a field the data lacks read as NaN, with a warning (Qlib's behaviour), instead of failing.")
    var allowMissingFields = false

    @Option(help: "Threads for evaluation (default: all cores, or $FACTOR_THREADS).")
    var threads: Int?

    func run() throws {
        let source = try dataOptions.openSource()
        let request = FeatureRequest(
            universe: try dataOptions.universeSpec(), start: try dataOptions.startTime(), end: try dataOptions.endTime(),
            frequency: try dataOptions.frequency(), expressions: try expressionOptions.named(),
            threads: threads ?? Parallel.defaultThreads, allowMissingFields: allowMissingFields)
        var statistics = FeatureOutput.StatsAccumulator(names: request.expressions.map(\.name))
        var cells = 0
        let sink = stats ? nil : try TextSink(path: out ?? "-")
        try sink?.write(FeatureOutput.csvHeader(request.expressions.map(\.name)))
        // Streamed: each chunk of instruments is written or summarised, then dropped.
        let run = try FeatureComputation.stream(request, source: source) { chunk in
            cells += chunk.outputCells().count
            if let sink { try FeatureOutput.writeCSVRows(chunk) { try sink.write($0) } } else { statistics.add(chunk) }
        }
        try sink?.close()
        for w in run.warnings { Terminal.info("warning: \(w)") }
        Terminal.info(String(format: "loaded %d instruments × %d rows in %.3f s; evaluated %d expressions (%d plan nodes) in %.3f s; %d output rows",
                             run.data.instruments.count, run.data.calendar.count, run.loadSeconds,
                             run.names.count, run.plan.operationCount, run.evaluateSeconds, cells))
        if stats {
            let rows = statistics.result.map { s in
                [s.name, String(s.valid), String(s.nan), String(s.inf), Terminal.number(s.mean), Terminal.number(s.std),
                 Terminal.number(s.min), Terminal.number(s.max)]
            }
            print(Terminal.table(["expression", "valid", "nan", "inf", "mean", "std", "min", "max"], rows))
        } else if let out, out != "-" {
            Terminal.info("wrote \(cells) rows to \(out)")
        }
    }
}

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

    @Option(help: "Output file: CSV, or Parquet when the name ends in .parquet ('-' for CSV on stdout). Default: stdout.")
    var out: String?

    @Option(help: "Parquet page compression: snappy or none (default: snappy).")
    var compression: String = "snappy"

    @Option(help: "Rows per Parquet row group (default: about 64 MB of values).")
    var rowGroupRows: Int?

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
            frequency: try dataOptions.frequency(), expressions: try expressionOptions.named(source: source),
            threads: threads ?? Parallel.defaultThreads, allowMissingFields: allowMissingFields)
        var statistics = FeatureOutput.StatsAccumulator(names: request.expressions.map(\.name))
        var cells = 0
        let names = request.expressions.map(\.name)
        let parquet = !stats && (out?.lowercased().hasSuffix(".parquet") ?? false)
        guard let codec = ParquetCompression(rawValue: compression.lowercased()) else {
            throw ValidationError("--compression must be snappy or none, not \(compression)")
        }
        if let rowGroupRows, rowGroupRows < 1 || rowGroupRows > 100_000_000 {
            throw ValidationError("--row-group-rows must be between 1 and 100000000, not \(rowGroupRows)")
        }
        if parquet {
            var seen: Set<String> = ["instrument", "datetime"]
            for name in names where !seen.insert(name).inserted {
                throw ValidationError("expression name \(name) appears twice among the Parquet columns (instrument, datetime, then the expressions); rename it")
            }
        }
        let sink = stats ? nil : try TextSink(path: out ?? "-")
        let parquetSink = parquet ? try FeatureParquetSink(names: names, compression: codec, rowGroupRows: rowGroupRows) { try sink?.write($0) } : nil
        if !parquet { try sink?.write(FeatureOutput.csvHeader(names)) }
        let run: FeatureResult
        if stats {
            // Each output is summarised as soon as it is computed, while its values are in cache; the chunks' partial
            // statistics are merged here in instrument order.
            let outputs = names.count
            run = try FeatureComputation.reduce(request, source: source, make: {
                FeatureOutput.StatsReducer(data: $0, outputRows: $1, outputs: outputs)
            }) { reducer in
                statistics.merge(reducer.partial)
                cells += reducer.cellCount
            }
        } else {
            // Streamed: each chunk of instruments is formatted on the thread that computed it, then written here in
            // instrument order, then dropped.
            let encoder = LazyCSVEncoder()
            run = try FeatureComputation.stream(request, source: source, map: { chunk -> ChunkOutput in
                if parquet { return .parquet(FeatureParquetSink.gather(chunk), chunk.outputCellCount) }
                return .csv(encoder.encoder(for: chunk.data.calendar).rows(chunk), chunk.outputCellCount)
            }) { output in
                switch output {
                case .csv(let bytes, let count): try sink?.write(bytes); cells += count
                case .parquet(let rows, let count): try parquetSink?.append(rows); cells += count
                }
            }
        }
        try parquetSink?.close()
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

/// What the evaluating thread made of one chunk.
private enum ChunkOutput: Sendable {
    case csv(ByteWriter, Int)
    case parquet(FeatureParquetSink.Rows, Int)
}

/// The CSV encoder of the run's calendar, made by the first chunk (the calendar is only known once data loads).
private final class LazyCSVEncoder: @unchecked Sendable {
    private let lock = NSLock()
    private var made: FeatureOutput.CSVEncoder?

    func encoder(for calendar: MarketCalendar) -> FeatureOutput.CSVEncoder {
        lock.lock(); defer { lock.unlock() }
        if let made { return made }
        let encoder = FeatureOutput.CSVEncoder(calendar: calendar)
        made = encoder
        return encoder
    }
}

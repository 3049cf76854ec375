import ArgumentParser
import FactorCore
import FactorData
import Foundation

/// Where the data comes from and which slice of it: shared by every command that reads market data.
struct DataOptions: ParsableArguments {
    @Option(help: "Data directory (CSV files or a Qlib data directory). Default: $QLIB_DATA_PATH, $FACTOR_DATA_PATH, then ./stockdata.")
    var data: String?

    @Option(help: "Source kind: csv or qlib (default: qlib when the directory has features/, else csv).")
    var source: String?

    @Option(help: "Universe: all, a name from instruments/<name>.txt (e.g. csi300), or codes 'SH600000,SZ000001'.")
    var universe: String = "all"

    @Option(help: "First output date, YYYY-MM-DD (default: calendar start).")
    var start: String?

    @Option(help: "Last output date, YYYY-MM-DD (default: calendar end).")
    var end: String?

    @Option(help: "Bar frequency: day, week, month, or an intraday frequency such as 5min, 15min (default: the data's own).")
    var freq: String?

    @Option(help: "Cache directory for parsed CSV columns (default: $FACTOR_CACHE_DIR, else ~/.cache/factorlab).")
    var cacheDir: String?

    func openSource() throws -> any MarketDataSource {
        var kind: SourceKind?
        if let source {
            guard let k = SourceKind(rawValue: source.lowercased()) else {
                throw ValidationError("--source must be csv or qlib, got '\(source)'")
            }
            kind = k
        }
        let location = try DataLocator.resolve(explicitPath: data, kind: kind)
        return try DataSources.open(directory: location.directory, kind: kind ?? location.kind, cacheDirectory: cacheDir)
    }

    func startTime() throws -> Timestamp? { try Self.time(start, "--start") }
    func endTime() throws -> Timestamp? { try Self.time(end, "--end") }

    func frequency() throws -> Frequency? {
        guard let freq else { return nil }
        guard let f = Frequency(freq) else {
            throw ValidationError("--freq '\(freq)' is not a frequency; use day, week, month, 1min, 5min, 15min, 30min or 60min")
        }
        return f
    }

    func universeSpec() throws -> UniverseSpec { try UniverseSpec(parsing: universe) }

    static func time(_ text: String?, _ flag: String) throws -> Timestamp? {
        guard let text else { return nil }
        guard let t = TimeFormat.parse(text) else {
            throw ValidationError("\(flag) '\(text)' is not a date; use YYYY-MM-DD")
        }
        return t
    }
}

import FactorCore

/// Writes computed features: the CSV table and per-expression health statistics.
public enum FeatureOutput {
    /// Text of one value: empty for NaN, `inf` / `-inf`, else the shortest text that round-trips the Double.
    @inline(__always)
    public static func format(_ v: Double) -> String {
        if v.isNaN { return "" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        return v.description
    }

    /// The CSV header line.
    public static func csvHeader(_ names: [String]) -> String {
        "instrument,datetime," + names.joined(separator: ",") + "\n"
    }

    /// Writes the rows of `result` (one per output cell, instrument then date) in chunks of text to `write`.
    public static func writeCSVRows(_ result: FeatureResult, _ write: (String) throws -> Void) rethrows {
        var buffer = ""
        let calendar = result.data.calendar
        var labels: [String?] = Array(repeating: nil, count: calendar.count)
        for (i, t) in result.outputCells() {
            buffer += result.data.instruments[i]
            buffer += ","
            if labels[t] == nil { labels[t] = calendar.label(t) }
            buffer += labels[t]!
            for p in result.panels {
                buffer += ","
                buffer += format(p[i, t])
            }
            buffer += "\n"
            if buffer.utf8.count > 1 << 20 {
                try write(buffer)
                buffer = ""
            }
        }
        try write(buffer)
    }

    /// The whole CSV (header and rows) of `result`.
    public static func writeCSV(_ result: FeatureResult, _ write: (String) throws -> Void) rethrows {
        try write(csvHeader(result.names))
        try writeCSVRows(result, write)
    }

    /// Health statistics of one expression over the output cells.
    public struct Stats: Sendable, Equatable {
        public var name: String
        public var valid = 0
        public var nan = 0
        public var inf = 0
        public var mean = Double.nan
        public var std = Double.nan
        public var min = Double.nan
        public var max = Double.nan
    }

    /// Accumulates `Stats` over streamed chunks (Welford's update for mean and variance).
    public struct StatsAccumulator: Sendable {
        private var stats: [Stats]
        private var m2: [Double]

        public init(names: [String]) {
            stats = names.map { Stats(name: $0) }
            m2 = Array(repeating: 0, count: names.count)
        }

        public mutating func add(_ result: FeatureResult) {
            let cells = result.outputCells()
            for k in 0..<stats.count {
                let panel = result.panels[k]
                var s = stats[k]
                var mean = s.valid == 0 ? 0 : s.mean
                for (i, t) in cells {
                    let v = panel[i, t]
                    if v.isNaN { s.nan += 1; continue }
                    if v.isInfinite { s.inf += 1; continue }
                    s.valid += 1
                    let delta = v - mean
                    mean += delta / Double(s.valid)
                    m2[k] += delta * (v - mean)
                    s.min = s.valid == 1 ? v : Swift.min(s.min, v)
                    s.max = s.valid == 1 ? v : Swift.max(s.max, v)
                }
                if s.valid > 0 {
                    s.mean = mean
                    s.std = s.valid > 1 ? (m2[k] / Double(s.valid - 1)).squareRoot() : .nan
                }
                stats[k] = s
            }
        }

        public var result: [Stats] { stats }
    }

    /// Count of valid values, NaN and inf counts, mean, sample std, min and max per expression.
    public static func stats(_ result: FeatureResult) -> [Stats] {
        var accumulator = StatsAccumulator(names: result.names)
        accumulator.add(result)
        return accumulator.result
    }
}

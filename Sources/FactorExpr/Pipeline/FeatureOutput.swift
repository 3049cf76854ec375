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

    /// Streams the CSV (`instrument,datetime,<names>`, one row per output cell) in chunks to `write`.
    public static func writeCSV(_ result: FeatureResult, _ write: (String) throws -> Void) rethrows {
        var buffer = "instrument,datetime," + result.names.joined(separator: ",") + "\n"
        let calendar = result.data.calendar
        for (i, t) in result.outputCells() {
            buffer += result.data.instruments[i]
            buffer += ","
            buffer += calendar.label(t)
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

    /// Count of valid values, NaN and inf counts, mean, sample std, min and max per expression.
    public static func stats(_ result: FeatureResult) -> [Stats] {
        let cells = result.outputCells()
        return zip(result.names, result.panels).map { name, panel in
            var s = Stats(name: name)
            var sum = 0.0, lo = Double.infinity, hi = -Double.infinity
            for (i, t) in cells {
                let v = panel[i, t]
                if v.isNaN { s.nan += 1 } else if v.isInfinite { s.inf += 1 } else {
                    s.valid += 1; sum += v; lo = Swift.min(lo, v); hi = Swift.max(hi, v)
                }
            }
            guard s.valid > 0 else { return s }
            let mean = sum / Double(s.valid)
            var ss = 0.0
            for (i, t) in cells {
                let v = panel[i, t]
                if v.isFinite { ss += (v - mean) * (v - mean) }
            }
            s.mean = mean
            s.std = s.valid > 1 ? (ss / Double(s.valid - 1)).squareRoot() : .nan
            s.min = lo
            s.max = hi
            return s
        }
    }
}

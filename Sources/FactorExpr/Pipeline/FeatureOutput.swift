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

    /// Writes the rows of `result` (one per output cell, instrument then date) as text to `write`.
    public static func writeCSVRows(_ result: FeatureResult, _ write: (String) throws -> Void) rethrows {
        try write(CSVEncoder(calendar: result.data.calendar).rows(result).withBytes { String(decoding: $0, as: UTF8.self) })
    }

    /// The whole CSV (header and rows) of `result`.
    public static func writeCSV(_ result: FeatureResult, _ write: (String) throws -> Void) rethrows {
        try write(csvHeader(result.names))
        try writeCSVRows(result, write)
    }

    /// Formats the rows of chunks as CSV bytes. It holds the calendar's labels, formatted once, so that chunks can
    /// be encoded on any thread.
    public struct CSVEncoder: Sendable {
        private let labels: [[UInt8]]

        public init(calendar: MarketCalendar) {
            labels = (0..<calendar.count).map { Array(calendar.label($0).utf8) }
        }

        /// The rows of `result`: instrument, datetime, then each panel's value (empty for NaN, `inf`/`-inf`).
        public func rows(_ result: FeatureResult) -> ByteWriter {
            let out = ByteWriter(capacity: result.outputCellCount * (result.panels.count * 20 + 24))
            let length = result.data.calendar.count
            // Base addresses of every panel, taken once: reading through the arrays would retain each per cell.
            withPanelBases(result.panels) { bases in
                for (i, rows) in result.outputRanges() {
                    let code = Array(result.data.instruments[i].utf8)
                    for t in rows {
                        out.append(code)
                        out.append(UInt8(ascii: ","))
                        out.append(labels[t])
                        let cell = i * length + t
                        for base in bases {
                            out.append(UInt8(ascii: ","))
                            let v = base[cell]
                            if v.isNaN { continue }
                            if v.isInfinite { out.append(v > 0 ? Self.inf : Self.minusInf); continue }
                            out.appendShortest(v)
                        }
                        out.append(UInt8(ascii: "\n"))
                    }
                }
            }
            return out
        }

        private static let inf = Array("inf".utf8), minusInf = Array("-inf".utf8)
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

    /// Counts, mean, sum of squared deviations and extremes of each expression over one chunk's output cells:
    /// computed where the chunk was evaluated, merged in order by `StatsAccumulator`.
    public struct PartialStats: Sendable {
        struct Column: Sendable {
            var valid = 0, nan = 0, inf = 0
            var mean = 0.0, m2 = 0.0
            var min = Double.infinity, max = -Double.infinity

            init() {}

            /// One pass over the run, sums taken about the run's first finite value (the shifted-data form of the
            /// variance: exact enough when that value is near the run's mean, as an instrument's own values are), in
            /// four interleaved lanes so that the chains of additions run side by side. The lanes only set NaN aside;
            /// a run that also holds an infinity (its minimum or maximum says so) is summed again one value at a time.
            init(_ run: UnsafeBufferPointer<Double>) {
                let n = run.count, whole = n & ~3
                guard let shift = run.first(where: { $0.isFinite }) else {
                    nan = run.reduce(0) { $0 + ($1.isNaN ? 1 : 0) }
                    inf = n - nan
                    return
                }
                var sum = SIMD4<Double>(), squares = SIMD4<Double>(), count = SIMD4<Int64>()
                var low = SIMD4<Double>(repeating: .infinity), high = SIMD4<Double>(repeating: -.infinity)
                let zero = SIMD4<Double>(), one = SIMD4<Int64>(repeating: 1), none = SIMD4<Int64>()
                let centre = SIMD4<Double>(repeating: shift)
                let raw = UnsafeRawPointer(run.baseAddress!)
                var k = 0
                while k < whole {
                    let x = raw.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self)
                    let number = x .== x  // not NaN
                    let d = zero.replacing(with: x - centre, where: number)
                    sum += d
                    squares += d * d
                    count &+= none.replacing(with: one, where: number)
                    low = low.replacing(with: x, where: x .< low)  // NaN compares false: left out
                    high = high.replacing(with: x, where: x .> high)
                    k += 4
                }
                min = low.min()
                max = high.max()
                if min == -.infinity || max == .infinity {
                    self = Column(exactly: run, shift: shift)
                    return
                }
                var s1 = sum.sum(), s2 = squares.sum()
                valid = Int(count.wrappedSum())
                for x in run[whole...] where !x.isNaN {
                    if x.isInfinite {
                        self = Column(exactly: run, shift: shift)
                        return
                    }
                    valid += 1
                    s1 += x - shift
                    s2 += (x - shift) * (x - shift)
                    min = Swift.min(min, x)
                    max = Swift.max(max, x)
                }
                nan = n - valid
                inf = 0
                mean = shift + s1 / Double(valid)
                m2 = Swift.max(0, s2 - s1 * s1 / Double(valid))
            }

            /// The same figures one value at a time, telling NaN from infinities.
            private init(exactly run: UnsafeBufferPointer<Double>, shift: Double) {
                var s1 = 0.0, s2 = 0.0
                for x in run {
                    if x.isFinite {
                        valid += 1
                        s1 += x - shift
                        s2 += (x - shift) * (x - shift)
                        min = Swift.min(min, x)
                        max = Swift.max(max, x)
                    } else if x.isNaN {
                        nan += 1
                    } else {
                        inf += 1
                    }
                }
                mean = shift + s1 / Double(valid)
                m2 = Swift.max(0, s2 - s1 * s1 / Double(valid))
            }

            /// Chan, Golub and LeVeque's pairwise update of mean and squared deviations.
            mutating func merge(_ b: Column) {
                nan += b.nan
                inf += b.inf
                guard b.valid > 0 else { return }
                let n = valid + b.valid
                let delta = b.mean - mean
                mean += delta * Double(b.valid) / Double(n)
                m2 += b.m2 + delta * delta * Double(valid) * Double(b.valid) / Double(n)
                valid = n
                min = Swift.min(min, b.min)
                max = Swift.max(max, b.max)
            }
        }

        var columns: [Column]

        init(columns: [Column]) { self.columns = columns }

        /// Two passes over each run of one instrument's rows (its mean, then squared deviations from it) while
        /// the run is in cache, runs merged pairwise: as exact as Welford's update, without a division per value.
        public init(_ result: FeatureResult) {
            let ranges = result.outputRanges()
            let length = result.data.calendar.count
            columns = result.panels.map { Self.column($0, ranges: ranges, length: length) }
        }

        /// One output's statistics over the output runs.
        static func column(_ panel: Panel, ranges: [(instrument: Int, rows: Range<Int>)], length: Int) -> Column {
            var total = Column()
            panel.values.withUnsafeBufferPointer { v in
                for (i, rows) in ranges {
                    let run = UnsafeBufferPointer(rebasing: v[(i * length + rows.lowerBound)..<(i * length + rows.upperBound)])
                    total.merge(Column(run))
                }
            }
            return total
        }
    }

    /// A chunk's `PartialStats`, each output's taken as soon as the output is computed (while its values are in cache).
    public final class StatsReducer: OutputReducer, @unchecked Sendable {
        // One chunk's reducer is fed by the one thread that evaluates the chunk, then read by the consumer.
        private let ranges: [(instrument: Int, rows: Range<Int>)]
        private let length: Int
        private var columns: [PartialStats.Column]
        /// The chunk's output rows.
        public let cellCount: Int

        public init(data: MarketData, outputRows: Range<Int>, outputs: Int) {
            ranges = FeatureResult.outputRanges(data, outputRows)
            length = data.calendar.count
            columns = Array(repeating: PartialStats.Column(), count: outputs)
            cellCount = ranges.reduce(0) { $0 + $1.rows.count }
        }

        public func add(_ index: Int, _ panel: Panel) {
            columns[index] = PartialStats.column(panel, ranges: ranges, length: length)
        }

        public var partial: PartialStats { PartialStats(columns: columns) }
    }

    /// Accumulates `Stats` over streamed chunks (partial statistics merged with Chan et al.'s pairwise update).
    public struct StatsAccumulator: Sendable {
        private var stats: [Stats]
        private var columns: [PartialStats.Column]

        public init(names: [String]) {
            stats = names.map { Stats(name: $0) }
            columns = Array(repeating: PartialStats.Column(), count: names.count)
        }

        public mutating func add(_ result: FeatureResult) { merge(PartialStats(result)) }

        public mutating func merge(_ partial: PartialStats) {
            for (k, column) in partial.columns.enumerated() { columns[k].merge(column) }
        }

        public var result: [Stats] {
            zip(stats, columns).map { s, c in
                var s = s
                s.valid = c.valid
                s.nan = c.nan
                s.inf = c.inf
                if c.valid > 0 {
                    s.mean = c.mean
                    s.std = c.valid > 1 ? (c.m2 / Double(c.valid - 1)).squareRoot() : .nan
                    s.min = c.min
                    s.max = c.max
                }
                return s
            }
        }
    }

    /// Count of valid values, NaN and inf counts, mean, sample std, min and max per expression.
    public static func stats(_ result: FeatureResult) -> [Stats] {
        var accumulator = StatsAccumulator(names: result.names)
        accumulator.add(result)
        return accumulator.result
    }

    /// Calls `body` with the base address of every panel's values, valid for the call.
    static func withPanelBases<R>(_ panels: [Panel], _ body: ([UnsafePointer<Double>]) throws -> R) rethrows -> R {
        var bases: [UnsafePointer<Double>] = []
        bases.reserveCapacity(panels.count)
        func nest(_ k: Int) throws -> R {
            if k == panels.count { return try body(bases) }
            return try panels[k].values.withUnsafeBufferPointer { b in
                // An empty panel has no cells to read; any address stands in for it.
                bases.append(b.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Double>.alignment)!)
                return try nest(k + 1)
            }
        }
        return try nest(0)
    }
}

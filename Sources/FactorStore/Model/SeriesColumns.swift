import Foundation

/// A result's per-date series as stored: one row per result, its dates as text and each other column as one array of
/// little-endian 8-byte values — IEEE 754 doubles for figures (NaN where undefined), integers for counts (−1 where
/// unknown), and the group returns row after row.
///
/// One row per result instead of one per date, and raw values instead of formatted text: a task of 8 factors × 3
/// horizons over six years writes 24 rows of about 150 KB instead of 35,000 rows, so storing costs a few percent of the
/// task. Read them through the API, the CLI or `export-results --series`.
struct SeriesColumns: Equatable {
    /// The stored columns after `result_id`: `dates` (text, comma-separated), then the arrays in `arrayNames` order.
    static let arrayNames = ["n", "ic", "rank_ic", "long_short", "groups", "turnover_top", "turnover_bottom", "autocorr",
                             "members", "with_factor", "with_return"]
    static let names = ["dates"] + arrayNames

    var dates: String
    /// The bytes of each array, in `arrayNames` order.
    var arrays: [[UInt8]]

    init(dates: String, arrays: [[UInt8]]) {
        self.dates = dates
        self.arrays = arrays
    }

    init(_ rows: [ResultSeriesRow]) {
        dates = rows.map(\.date).joined(separator: ",")
        func doubles(_ value: (ResultSeriesRow) -> Double) -> [UInt8] { Self.bytes(rows.map { value($0).isFinite ? value($0) : .nan }) }
        func integers(_ value: (ResultSeriesRow) -> Int?) -> [UInt8] { Self.bytes(rows.map { Int64(value($0) ?? -1) }) }
        arrays = [
            integers { $0.n }, doubles(\.ic), doubles(\.rankIC), doubles(\.longShort),
            Self.bytes(rows.flatMap { $0.groups.map { $0.isFinite ? $0 : .nan } }),
            doubles(\.turnoverTop), doubles(\.turnoverBottom), doubles(\.autocorr),
            integers(\.members), integers(\.withFactor), integers(\.withReturn),
        ]
    }

    /// The rows in stored order; arrays whose lengths do not match the dates are an error.
    func rows() throws -> [ResultSeriesRow] {
        let dates = self.dates.isEmpty ? [] : self.dates.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let count = dates.count
        guard arrays.count == Self.arrayNames.count else {
            throw StoreError.database("a stored series has \(arrays.count) arrays, not \(Self.arrayNames.count)")
        }
        for (k, bytes) in arrays.enumerated() where k != 4 && bytes.count != count * 8 {
            throw StoreError.database("the stored series column \(Self.arrayNames[k]) holds \(bytes.count / 8) values for \(count) dates")
        }
        guard count == 0 || arrays[4].count % (count * 8) == 0 else {
            throw StoreError.database("the stored group returns do not divide into \(count) dates")
        }
        let groupsPerRow = count == 0 ? 0 : arrays[4].count / (count * 8)
        let n: [Int64] = Self.values(arrays[0]), groups: [Double] = Self.values(arrays[4])
        let figures: [[Double]] = [1, 2, 3, 5, 6, 7].map { Self.values(arrays[$0]) }
        let coverage: [[Int64]] = [8, 9, 10].map { Self.values(arrays[$0]) }
        func known(_ v: Int64) -> Int? { v < 0 ? nil : Int(v) }
        return (0..<count).map { t in
            ResultSeriesRow(date: dates[t], n: Int(n[t]), ic: figures[0][t], rankIC: figures[1][t], longShort: figures[2][t],
                            groups: Array(groups[(t * groupsPerRow)..<((t + 1) * groupsPerRow)]),
                            turnoverTop: figures[3][t], turnoverBottom: figures[4][t], autocorr: figures[5][t],
                            members: known(coverage[0][t]), withFactor: known(coverage[1][t]), withReturn: known(coverage[2][t]))
        }
    }

    static func bytes<T: BitwiseCopyable>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    static func values<T: BitwiseCopyable>(_ bytes: [UInt8]) -> [T] {
        let count = bytes.count / MemoryLayout<T>.size
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                for k in 0..<count { buffer[k] = raw.loadUnaligned(fromByteOffset: k * MemoryLayout<T>.size, as: T.self) }
            }
            initialized = count
        }
    }
}

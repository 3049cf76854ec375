import FactorCore

/// Features as a Parquet table: `instrument` (string), `datetime` (timestamp, microseconds, no zone), then one
/// nullable double column per expression (NaN is written as null; infinities stay). Rows are in the CSV's
/// order, cut into row groups of `rowGroupRows` rows (default: about 64 MB of values).
public final class FeatureParquetSink {
    private let writer: ParquetWriter
    private let names: [String]
    private let rowGroupRows: Int
    private var instruments: [Int32] = []
    private var dictionary: [String] = []
    private var dictionaryCodes: [String: Int32] = [:]
    private var times: [Int64] = []
    private var values: [[Double]]

    public init(names: [String], compression: ParquetCompression, rowGroupRows: Int? = nil,
                output: @escaping (ByteWriter) throws -> Void) throws {
        self.names = names
        self.rowGroupRows = max(1, rowGroupRows ?? max(4096, (64 << 20) / (8 * (names.count + 2))))
        values = Array(repeating: [], count: names.count)
        writer = try ParquetWriter(columns: [ParquetColumn("instrument", .string), ParquetColumn("datetime", .timestampMicros)]
                                       + names.map { ParquetColumn($0, .double) },
                                   compression: compression, metadata: [("factorlab.nan", "null")], output: output)
    }

    /// The output rows of one chunk, gathered into columns (on the thread that computed the chunk).
    public struct Rows: Sendable {
        var instruments: [String]
        var runs: [(instrument: Int, count: Int)]
        var times: [Int64]
        var values: [[Double]]
    }

    public static func gather(_ result: FeatureResult) -> Rows {
        let ranges = result.outputRanges()
        let length = result.data.calendar.count
        let total = ranges.reduce(0) { $0 + $1.rows.count }
        var times: [Int64] = []
        times.reserveCapacity(total)
        for (_, rows) in ranges { for t in rows { times.append(result.data.calendar.times[t] * 1_000_000) } }
        let values = result.panels.map { panel -> [Double] in
            var column: [Double] = []
            column.reserveCapacity(total)
            panel.values.withUnsafeBufferPointer { v in
                for (i, rows) in ranges { column.append(contentsOf: v[(i * length + rows.lowerBound)..<(i * length + rows.upperBound)]) }
            }
            return column
        }
        return Rows(instruments: result.data.instruments, runs: ranges.map { ($0.instrument, $0.rows.count) }, times: times, values: values)
    }

    /// Appends a chunk's rows; full row groups are written.
    public func append(_ rows: Rows) throws {
        for (i, n) in rows.runs {
            let code = rows.instruments[i]
            let c: Int32
            if let known = dictionaryCodes[code] { c = known } else {
                c = Int32(dictionary.count)
                dictionaryCodes[code] = c
                dictionary.append(code)
            }
            instruments.append(contentsOf: repeatElement(c, count: n))
        }
        times.append(contentsOf: rows.times)
        for k in values.indices { values[k].append(contentsOf: rows.values[k]) }
        while times.count >= rowGroupRows { try flush(rowGroupRows) }
    }

    /// Writes the last row group and the footer.
    public func close() throws {
        if !times.isEmpty { try flush(times.count) }
        try writer.close()
    }

    private func flush(_ count: Int) throws {
        // Codes in this row group, renumbered from 0 so that each dictionary holds just its own instruments.
        var local: [Int32: Int32] = [:]
        var groupDictionary: [String] = []
        let indices = instruments[..<count].map { c -> Int32 in
            if let l = local[c] { return l }
            let l = Int32(groupDictionary.count)
            local[c] = l
            groupDictionary.append(dictionary[Int(c)])
            return l
        }
        var columns: [ParquetValues] = [.dictionary(groupDictionary, indices: indices), .int64s(Array(times[..<count]))]
        for k in values.indices { columns.append(.doubles(Array(values[k][..<count]))) }
        try writer.writeRowGroup(columns)
        instruments.removeFirst(count)
        times.removeFirst(count)
        for k in values.indices { values[k].removeFirst(count) }
    }
}

/// A table of typed columns that can be written as CSV or as Parquet: the per-date series of an evaluation and
/// exported results go through it, so both files hold the same cells.
public struct DataTable: Sendable {
    public enum Column: Sendable {
        /// CSV: shortest round-trip text, empty for NaN, `inf`/`-inf`. Parquet: nullable DOUBLE, NaN as null.
        case doubles([Double])
        /// CSV: decimal. Parquet: INT64.
        case integers([Int64])
        /// CSV: the text (quoted when it holds a comma, quote or line break). Parquet: dictionary-encoded STRING.
        case strings([String])
        /// Time labels (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`). CSV: the label. Parquet: TIMESTAMP(MICROS), or
        /// STRING if a label does not parse.
        case times([String])

        var count: Int {
            switch self {
            case .doubles(let v): return v.count
            case .integers(let v): return v.count
            case .strings(let v), .times(let v): return v.count
            }
        }
    }

    public private(set) var names: [String] = []
    public private(set) var columns: [Column] = []

    public init() {}

    public mutating func add(_ name: String, _ column: Column) {
        precondition(columns.isEmpty || column.count == rowCount, "column \(name) has \(column.count) rows, the table \(rowCount)")
        names.append(name)
        columns.append(column)
    }

    public var rowCount: Int { columns.first?.count ?? 0 }

    /// Header and rows, `\n`-terminated.
    public func csv() -> String {
        let out = ByteWriter(capacity: 1 << 16)
        out.append(names.map(Self.quoted).joined(separator: ","))
        out.append(UInt8(ascii: "\n"))
        for row in 0..<rowCount {
            for (k, column) in columns.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                switch column {
                case .doubles(let v):
                    let x = v[row]
                    if x.isNaN { continue }
                    if x.isInfinite { out.append(x > 0 ? "inf" : "-inf"); continue }
                    out.appendShortest(x)
                case .integers(let v): out.append(String(v[row]))
                case .strings(let v), .times(let v): out.append(Self.quoted(v[row]))
                }
            }
            out.append(UInt8(ascii: "\n"))
        }
        return out.withBytes { String(decoding: $0, as: UTF8.self) }
    }

    private static func quoted(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") })
        else { return s }
        return "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    /// The whole table as a Parquet file (one row group per `rowGroupRows` rows).
    public func parquet(compression: ParquetCompression = .snappy, rowGroupRows: Int = 1 << 20,
                        metadata: [(String, String)] = []) throws -> [UInt8] {
        var schema: [ParquetColumn] = []
        var values: [ParquetValues] = []
        for (name, column) in zip(names, columns) {
            switch column {
            case .doubles(let v):
                schema.append(ParquetColumn(name, .double)); values.append(.doubles(v))
            case .integers(let v):
                schema.append(ParquetColumn(name, .int64)); values.append(.int64s(v))
            case .strings(let v):
                schema.append(ParquetColumn(name, .string)); values.append(.strings(v))
            case .times(let v):
                let parsed = v.map { TimeFormat.parse(Array($0.utf8)) }
                if parsed.allSatisfy({ $0 != nil }) {
                    schema.append(ParquetColumn(name, .timestampMicros)); values.append(.int64s(parsed.map { $0! * 1_000_000 }))
                } else {
                    schema.append(ParquetColumn(name, .string)); values.append(.strings(v))
                }
            }
        }
        let file = ByteWriter(capacity: rowCount * columns.count * 9 + 4096)
        let writer = try ParquetWriter(columns: schema, compression: compression, metadata: [("factorlab.nan", "null")] + metadata) { chunk in
            chunk.withBytes { file.append($0) }
        }
        var start = 0
        while start < rowCount {
            let end = min(rowCount, start + max(1, rowGroupRows))
            try writer.writeRowGroup(values.map { $0.rows(start..<end) })
            start = end
        }
        try writer.close()
        return file.bytes
    }
}

extension ParquetValues {
    /// The values of `range` (dictionary columns keep their dictionary).
    func rows(_ range: Range<Int>) -> ParquetValues {
        switch self {
        case .doubles(let v): return .doubles(Array(v[range]))
        case .int64s(let v): return .int64s(Array(v[range]))
        case .dictionary(let d, let indices): return .dictionary(d, indices: Array(indices[range]))
        }
    }
}

import Dispatch

/// Writes a Parquet file (format 2.x readers, data pages v1) row group by row group to an output function.
///
/// Layout: `PAR1`, then per row group one column chunk per column — a dictionary page for strings, then one data
/// page (definition levels for the optional doubles, RLE/bit-packed hybrid; values PLAIN, or dictionary indices
/// RLE) — and finally the Thrift-compact `FileMetaData` with per-column min/max/null-count statistics, its length
/// and `PAR1`. Pages are Snappy-compressed or not. The column chunks of a row group are encoded in parallel.
public final class ParquetWriter {
    public let columns: [ParquetColumn]
    public let compression: ParquetCompression
    private let output: (ByteWriter) throws -> Void
    private let keyValues: [(String, String)]
    private var offset: Int64 = 0
    private var rowGroups: [RowGroupMeta] = []
    private var rows: Int64 = 0
    private var closed = false

    /// `output` receives the file's bytes in order; `metadata` goes into the footer's key-value metadata.
    public init(columns: [ParquetColumn], compression: ParquetCompression = .snappy, metadata: [(String, String)] = [],
                output: @escaping (ByteWriter) throws -> Void) throws {
        precondition(!columns.isEmpty, "a Parquet file needs a column")
        self.columns = columns
        self.compression = compression
        self.output = output
        self.keyValues = metadata
        try emit { $0.append(Array("PAR1".utf8)) }
    }

    private func emit(_ fill: (ByteWriter) -> Void) throws {
        let w = ByteWriter(capacity: 64)
        fill(w)
        try emit(w)
    }

    private func emit(_ w: ByteWriter) throws {
        try output(w)
        offset += Int64(w.count)
    }

    /// One row group: a value array per column, all of one length.
    public func writeRowGroup(_ values: [ParquetValues]) throws {
        precondition(!closed, "row group after close")
        precondition(values.count == columns.count, "one value array per column")
        let count = values[0].count
        precondition(values.allSatisfy { $0.count == count }, "columns of one row group differ in length")
        guard count > 0 else { return }
        let encoded = ResultSlots<EncodedColumnChunk>(count: columns.count)
        let columns = self.columns, compression = self.compression
        DispatchQueue.concurrentPerform(iterations: columns.count) { k in
            encoded.set(k, ColumnChunkEncoder.encode(columns[k], values[k], compression: compression))
        }
        var metas: [ColumnChunkMeta] = []
        for k in columns.indices {
            var chunk = encoded.get(k)!
            let start = offset
            chunk.meta.dictionaryPageOffset = chunk.meta.dictionaryPageOffset.map { $0 + start }
            chunk.meta.dataPageOffset += start
            try emit(chunk.bytes)
            metas.append(chunk.meta)
        }
        rowGroups.append(RowGroupMeta(columns: metas, rows: Int64(count)))
        rows += Int64(count)
    }

    /// Writes the footer. Nothing may be written after.
    public func close() throws {
        precondition(!closed, "closed twice")
        closed = true
        var t = ThriftCompactWriter()
        t.structBody { t in
            t.i32(1, 1)
            t.structList(2, [nil] + columns.map { Optional($0) }) { t, column in
                guard let column else {
                    t.string(4, "schema")
                    t.i32(5, Int32(self.columns.count))
                    return
                }
                column.writeSchemaElement(&t)
            }
            t.i64(3, rows)
            t.structList(4, rowGroups) { t, group in group.write(&t, columns: self.columns) }
            if !keyValues.isEmpty {
                t.structList(5, keyValues) { t, kv in
                    t.string(1, kv.0)
                    t.string(2, kv.1)
                }
            }
            t.string(6, "FactorLab")
            // Type-defined order for every column: without it readers ignore min_value / max_value.
            t.structList(7, columns) { t, _ in t.structure(1) { _ in } }
        }
        let footer = t.bytes
        try emit { w in
            w.append(footer)
            w.appendLittleEndian(UInt32(footer.count))
            w.append(Array("PAR1".utf8))
        }
    }
}

extension ParquetColumn {
    var physicalType: Int32 {
        switch kind {
        case .double: return 5
        case .int64, .timestampMicros: return 2
        case .string: return 6
        }
    }

    var isOptional: Bool { kind == .double }

    func writeSchemaElement(_ t: inout ThriftCompactWriter) {
        t.i32(1, physicalType)
        t.i32(3, isOptional ? 1 : 0)
        t.string(4, name)
        switch kind {
        case .string:
            t.i32(6, 0)  // converted type UTF8, for older readers
            t.structure(10) { $0.structure(1) { _ in } }  // logical type STRING
        case .timestampMicros:
            // No converted type: TIMESTAMP_MICROS would mean adjusted to UTC.
            t.structure(10) { l in
                l.structure(8) { ts in
                    ts.bool(1, false)
                    ts.structure(2) { unit in unit.structure(2) { _ in } }  // MICROS
                }
            }
        case .double, .int64:
            break
        }
    }
}

/// Where a column chunk's pages are, and its statistics, for the footer (offsets relative to the chunk until
/// the writer places it).
struct ColumnChunkMeta {
    var column: ParquetColumn
    var encodings: [Int32]
    var codec: Int32
    var values: Int64
    var uncompressedSize: Int64
    var compressedSize: Int64
    var dataPageOffset: Int64
    var dictionaryPageOffset: Int64?
    var nullCount: Int64
    var minValue: [UInt8]?
    var maxValue: [UInt8]?

    func write(_ t: inout ThriftCompactWriter, fileOffset: Int64) {
        t.i64(2, fileOffset)
        t.structure(3) { m in
            m.i32(1, column.physicalType)
            m.i32List(2, encodings)
            m.stringList(3, [column.name])
            m.i32(4, codec)
            m.i64(5, values)
            m.i64(6, uncompressedSize)
            m.i64(7, compressedSize)
            m.i64(9, dataPageOffset)
            if let dictionaryPageOffset { m.i64(11, dictionaryPageOffset) }
            m.structure(12) { s in writeStatistics(&s) }
        }
    }

    func writeStatistics(_ s: inout ThriftCompactWriter) {
        s.i64(3, nullCount)
        if let maxValue { s.binary(5, maxValue) }
        if let minValue { s.binary(6, minValue) }
    }
}

struct RowGroupMeta {
    var columns: [ColumnChunkMeta]
    var rows: Int64

    func write(_ t: inout ThriftCompactWriter, columns schema: [ParquetColumn]) {
        t.structList(1, columns) { t, c in c.write(&t, fileOffset: c.dictionaryPageOffset ?? c.dataPageOffset) }
        t.i64(2, columns.reduce(0) { $0 + $1.uncompressedSize })
        t.i64(3, rows)
        t.i64(5, columns.first.map { $0.dictionaryPageOffset ?? $0.dataPageOffset } ?? 0)
        t.i64(6, columns.reduce(0) { $0 + $1.compressedSize })
    }
}

struct EncodedColumnChunk {
    var bytes: ByteWriter
    var meta: ColumnChunkMeta
}

/// Encodes one column's values of a row group into its pages.
enum ColumnChunkEncoder {
    static let plain: Int32 = 0, rle: Int32 = 3, rleDictionary: Int32 = 8
    static let dataPage: Int32 = 0, dictionaryPage: Int32 = 2

    static func encode(_ column: ParquetColumn, _ values: ParquetValues, compression: ParquetCompression) -> EncodedColumnChunk {
        let out = ByteWriter(capacity: values.count * 9 + 1024)
        var meta = ColumnChunkMeta(column: column, encodings: [], codec: compression.codec, values: Int64(values.count),
                                   uncompressedSize: 0, compressedSize: 0, dataPageOffset: 0, dictionaryPageOffset: nil,
                                   nullCount: 0)
        switch values {
        case .doubles(let v):
            var nulls = 0
            var lo = Double.infinity, hi = -Double.infinity
            v.withUnsafeBufferPointer { v in
                for x in v {
                    if x.isNaN { nulls += 1; continue }
                    lo = min(lo, x)
                    hi = max(hi, x)
                }
                for page in pages(v.count) {
                    let body = ByteWriter(capacity: page.count * 8 + 64)
                    // Definition levels: 4-byte length, then runs of present (1) / null (0).
                    let levels = RLEHybrid.encodeRuns(count: page.count, bitWidth: 1) { v[page.lowerBound + $0].isNaN ? 0 : 1 }
                    body.appendLittleEndian(UInt32(levels.count))
                    body.append(levels)
                    for x in v[page] where !x.isNaN { body.appendLittleEndian(x) }
                    writePage(dataPage, body, values: page.count, encoding: plain, compression: compression, into: out, meta: &meta)
                }
            }
            meta.nullCount = Int64(nulls)
            if nulls < v.count {
                meta.minValue = littleEndianBytes(lo == 0 ? -0.0 : lo)  // the spec's rule for signed zeros
                meta.maxValue = littleEndianBytes(hi == 0 ? 0.0 : hi)
            }
            meta.encodings = [plain, rle]
        case .int64s(let v):
            v.withUnsafeBufferPointer { v in
                for page in pages(v.count) {
                    let body = ByteWriter(capacity: page.count * 8 + 16)
                    body.appendRaw(UnsafeBufferPointer(rebasing: v[page]))
                    writePage(dataPage, body, values: page.count, encoding: plain, compression: compression, into: out, meta: &meta)
                }
            }
            if let lo = v.min(), let hi = v.max() {
                meta.minValue = littleEndianBytes(lo)
                meta.maxValue = littleEndianBytes(hi)
            }
            meta.encodings = [plain]
        case .dictionary(let dictionary, let indices):
            let page = ByteWriter(capacity: dictionary.reduce(0) { $0 + $1.utf8.count + 4 } + 16)
            for s in dictionary {
                page.appendLittleEndian(UInt32(s.utf8.count))
                page.append(s)
            }
            meta.dictionaryPageOffset = 0
            writePage(dictionaryPage, page, values: dictionary.count, encoding: plain, compression: compression, into: out, meta: &meta)
            let used = Set(indices)
            let present = dictionary.indices.filter { used.contains(Int32($0)) }.map { Array(dictionary[$0].utf8) }
            meta.minValue = present.min { $0.lexicographicallyPrecedes($1) }
            meta.maxValue = present.max { $0.lexicographicallyPrecedes($1) }
            let width = max(1, Int.bitWidth - max(0, dictionary.count - 1).leadingZeroBitCount)
            meta.dataPageOffset = Int64(out.count)
            indices.withUnsafeBufferPointer { ix in
                for range in pages(ix.count) {
                    let body = ByteWriter(capacity: range.count / 4 + 64)
                    body.append(UInt8(width))
                    body.append(RLEHybrid.encodeRuns(count: range.count, bitWidth: width) { UInt64(ix[range.lowerBound + $0]) })
                    writePage(dataPage, body, values: range.count, encoding: rleDictionary, compression: compression, into: out, meta: &meta)
                }
            }
            meta.encodings = [plain, rleDictionary]
        }
        return EncodedColumnChunk(bytes: out, meta: meta)
    }

    /// Values per data page: about 1 MB of doubles, so that readers can skip pages and no page nears 2 GiB.
    static let pageValues = 131_072

    private static func pages(_ count: Int) -> [Range<Int>] {
        stride(from: 0, to: count, by: pageValues).map { $0..<min(count, $0 + pageValues) }
    }

    private static func littleEndianBytes<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    private static func littleEndianBytes(_ v: Double) -> [UInt8] { littleEndianBytes(v.bitPattern) }

    /// A page header and its (compressed) body.
    private static func writePage(_ type: Int32, _ body: ByteWriter, values: Int, encoding: Int32, compression: ParquetCompression,
                                  into out: ByteWriter, meta: inout ColumnChunkMeta) {
        let payload: ByteWriter
        switch compression {
        case .none:
            payload = body
        case .snappy:
            payload = ByteWriter(capacity: body.count + body.count / 6 + 32)
            body.withBytes { Snappy.compress($0, into: payload) }
        }
        var header = ThriftCompactWriter()
        header.structBody { h in
            h.i32(1, type)
            h.i32(2, Int32(body.count))
            h.i32(3, Int32(payload.count))
            if type == dictionaryPage {
                h.structure(7) { d in
                    d.i32(1, Int32(values))
                    d.i32(2, encoding)
                }
            } else {
                h.structure(5) { d in
                    d.i32(1, Int32(values))
                    d.i32(2, encoding)
                    d.i32(3, rle)
                    d.i32(4, rle)
                }
            }
        }
        out.append(header.bytes)
        payload.withBytes { out.append($0) }
        meta.uncompressedSize += Int64(header.bytes.count + body.count)
        meta.compressedSize += Int64(header.bytes.count + payload.count)
    }
}

/// Parquet's RLE / bit-packed hybrid encoding, written as runs: a run of one repeated value is an RLE run; values
/// that change often are bit-packed in groups of 8.
enum RLEHybrid {
    static func encodeRuns(count: Int, bitWidth: Int, _ value: (Int) -> UInt64) -> [UInt8] {
        var out: [UInt8] = []
        let valueBytes = (bitWidth + 7) / 8
        func varint(_ v: Int) {
            var v = UInt64(v)
            while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            out.append(UInt8(v))
        }
        func rleRun(_ v: UInt64, _ n: Int) {
            varint(n << 1)
            for b in 0..<valueBytes { out.append(UInt8((v >> (8 * UInt64(b))) & 0xFF)) }
        }
        // Bit-packs values [from, to) padded to a multiple of 8 (readers ignore the padding past `count`).
        func packed(_ from: Int, _ to: Int) {
            let groups = (to - from + 7) / 8
            varint(groups << 1 | 1)
            var acc: UInt64 = 0, bits = 0
            for k in 0..<(groups * 8) {
                let v = from + k < to ? value(from + k) : 0
                acc |= v << UInt64(bits)
                bits += bitWidth
                while bits >= 8 {
                    out.append(UInt8(acc & 0xFF))
                    acc >>= 8
                    bits -= 8
                }
            }
            if bits > 0 { out.append(UInt8(acc & 0xFF)) }
        }
        var i = 0
        var pendingStart = 0  // values not yet written, to be bit-packed
        while i < count {
            let v = value(i)
            var j = i + 1
            while j < count && value(j) == v { j += 1 }
            // Runs of 8 or more repeat as RLE; shorter ones join the bit-packed stretch. A bit-packed stretch must
            // end on a multiple of 8 unless it is the last, so the RLE run gives it values to fill its last group.
            if j - i >= 8 {
                var runStart = i
                if i > pendingStart {
                    let padded = pendingStart + ((i - pendingStart + 7) / 8) * 8
                    packed(pendingStart, padded)
                    runStart = padded
                }
                if j > runStart { rleRun(v, j - runStart) }
                pendingStart = j
            }
            i = j
        }
        if pendingStart < count { packed(pendingStart, count) }
        return out
    }
}

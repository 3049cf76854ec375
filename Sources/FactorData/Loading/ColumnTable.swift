import FactorCore

/// Every instrument of a CSV directory at one frequency, held column by column.
///
/// Field k of instrument i over its span lives in `columns[k][offsets[i] ..< offsets[i + 1]]`; rows outside the
/// span are not stored. This is the unit the column cache writes and reads.
struct ColumnTable: Sendable, BarStore {
    var frequency: Frequency
    var times: [Timestamp]
    var codes: [String]
    var spans: [Range<Int>]
    /// `offsets[i]` is where instrument i starts in each column; `offsets.last` is the stored row count.
    var offsets: [Int]
    var fieldNames: [String]
    var columns: [ColumnValues]
    /// Notes gathered while building (files without rows, …).
    var warnings: [String]
    /// Instruments whose files could not be read, with the error (never cached: such a table is rebuilt).
    var unreadable: [String: String] = [:]
    private var index: [String: Int]
    private var fieldIndex: [String: Int]

    init(frequency: Frequency, times: [Timestamp], codes: [String], spans: [Range<Int>], fieldNames: [String],
         columns: [ColumnValues], warnings: [String]) {
        self.frequency = frequency
        self.times = times
        self.codes = codes
        self.spans = spans
        var offsets = [0]
        offsets.reserveCapacity(spans.count + 1)
        for s in spans { offsets.append(offsets[offsets.count - 1] + s.count) }
        self.offsets = offsets
        self.fieldNames = fieldNames
        self.columns = columns
        self.warnings = warnings
        var index: [String: Int] = [:]
        for (i, c) in codes.enumerated() { index[c] = i }
        self.index = index
        var fieldIndex: [String: Int] = [:]
        for (k, f) in fieldNames.enumerated() { fieldIndex[f] = k }
        self.fieldIndex = fieldIndex
    }

    var storedRows: Int { offsets[offsets.count - 1] }
    var calendar: MarketCalendar { MarketCalendar(times: times, frequency: frequency) }

    func contains(_ code: String) -> Bool { index[code] != nil }

    func spans(of codes: [String]) throws -> [Range<Int>] {
        codes.map { code in index[code].map { spans[$0] } ?? 0..<0 }
    }

    func read(codes: [String], fields: [String], rows: Range<Int>) throws -> BarBlock {
        let instruments = codes.map { index[$0] }
        let length = rows.count
        // Fields are copied on all cores: each is a pass over every instrument's stored rows.
        let copied = Parallel.map(fields.count) { f -> Panel in
            var values = [Double](repeating: .nan, count: instruments.count * length)
            if let k = fieldIndex[fields[f]] {
                columns[k].withUnsafeBufferPointer { src in
                    values.withUnsafeMutableBufferPointer { dst in
                        guard let srcBase = src.baseAddress, let dstBase = dst.baseAddress else { return }
                        for (j, i) in instruments.enumerated() {
                            guard let i else { continue }
                            let span = spans[i]
                            let lo = max(span.lowerBound, rows.lowerBound), hi = min(span.upperBound, rows.upperBound)
                            guard lo < hi else { continue }
                            (dstBase + j * length + (lo - rows.lowerBound))
                                .update(from: srcBase + offsets[i] + (lo - span.lowerBound), count: hi - lo)
                        }
                    }
                }
            }
            return Panel(instrumentCount: instruments.count, length: length, values: values)
        }
        var panels: [String: Panel] = [:]
        for (f, field) in fields.enumerated() { panels[field] = copied[f] }
        let blockSpans = instruments.map { i in i.map { spans[$0].clipped(to: rows) } ?? 0..<0 }
        return BarBlock(spans: blockSpans, fields: panels)
    }
}

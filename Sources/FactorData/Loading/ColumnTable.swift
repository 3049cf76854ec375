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
            // Each instrument's row is written once: NaN before and after its stored span, the span copied.
            let values = HugePageArray.make(count: instruments.count * length) { dst in
                guard let dstBase = dst.baseAddress else { return }
                func copy(_ src: UnsafeBufferPointer<Double>?) {
                    for (j, i) in instruments.enumerated() {
                        let row = dstBase + j * length
                        guard let i, let srcBase = src?.baseAddress else {
                            row.initialize(repeating: .nan, count: length)
                            continue
                        }
                        let span = spans[i]
                        let lo = max(span.lowerBound, rows.lowerBound), hi = min(span.upperBound, rows.upperBound)
                        guard lo < hi else {
                            row.initialize(repeating: .nan, count: length)
                            continue
                        }
                        row.initialize(repeating: .nan, count: lo - rows.lowerBound)
                        (row + (lo - rows.lowerBound)).initialize(from: srcBase + offsets[i] + (lo - span.lowerBound), count: hi - lo)
                        (row + (hi - rows.lowerBound)).initialize(repeating: .nan, count: rows.upperBound - hi)
                    }
                }
                if let k = fieldIndex[fields[f]] {
                    columns[k].withUnsafeBufferPointer { copy($0) }
                } else {
                    copy(nil)
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

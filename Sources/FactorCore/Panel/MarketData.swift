/// Bars of a set of instruments laid on one calendar: the input of the expression engine.
///
/// Each instrument's series runs from its first to its last bar (`spans`); rows outside are NaN and are not part
/// of the instrument's history (windows near the first bar are short, exactly as in Qlib).
public struct MarketData: Sendable {
    /// Instrument codes, upper case (`SH600000`), in panel order.
    public var instruments: [String]
    /// The shared calendar.
    public var calendar: MarketCalendar
    /// Rows from each instrument's first to its last bar (empty when it has none in range).
    public var spans: [Range<Int>]
    /// Fields by lower-case name (`close`, `volume`, …), each a panel over `instruments` × `calendar`.
    public var fields: [String: Panel]
    /// Universe membership over the same rows; cross-sectional operators use it.
    public var membership: Membership
    /// Series of instruments outside the universe (benchmark indices) that `ChangeInstrument` may name,
    /// by upper-case code. Each is a one-instrument `MarketData` on the same calendar.
    public var auxiliary: [String: AuxiliarySeries]
    /// Categorical fields (`industry`, `sector`) by lower-case name, over the same instruments and rows.
    public var categories: [String: CategoryPanel]
    /// Point-in-time fundamentals (`roe_q`) by lower-case name, over the same instruments: what `P($$roe_q)` reads.
    public var periodFields: [String: PeriodField]

    public init(instruments: [String], calendar: MarketCalendar, spans: [Range<Int>], fields: [String: Panel],
                membership: Membership? = nil, auxiliary: [String: AuxiliarySeries] = [:],
                categories: [String: CategoryPanel] = [:], periodFields: [String: PeriodField] = [:]) {
        self.instruments = instruments
        self.calendar = calendar
        self.spans = spans
        self.fields = fields
        self.membership = membership ?? .everyone(instrumentCount: instruments.count, length: calendar.count)
        self.auxiliary = auxiliary
        self.categories = categories
        self.periodFields = periodFields
    }

    /// Field names available, sorted.
    public var fieldNames: [String] { fields.keys.sorted() }

    /// Index of an instrument code (case-insensitive).
    public func instrumentIndex(_ code: String) -> Int? {
        let up = code.uppercased()
        return instruments.firstIndex(of: up)
    }
}

/// One instrument's fields on the calendar of the `MarketData` that holds it.
public struct AuxiliarySeries: Sendable {
    public var span: Range<Int>
    /// Field name (lower case) → series of calendar length.
    public var fields: [String: [Double]]

    public init(span: Range<Int>, fields: [String: [Double]]) {
        self.span = span
        self.fields = fields
    }
}

extension MarketData {
    /// The same data restricted to the instruments at `indices`, in that order.
    public func selectingInstruments(_ indices: [Int]) -> MarketData {
        MarketData(instruments: indices.map { instruments[$0] }, calendar: calendar,
                   spans: indices.map { spans[$0] },
                   fields: fields.mapValues { $0.selectingInstruments(indices) },
                   membership: Membership(rows: indices.map { membership.rows[$0] }, length: membership.length),
                   auxiliary: auxiliary, categories: categories.mapValues { $0.selectingInstruments(indices) },
                   periodFields: periodFields.mapValues { $0.selectingInstruments(indices) })
    }

    /// The bars (fields, spans, membership, calendar) of the rows in `range`, renumbered from 0; auxiliary series,
    /// categories and period fields are left out (what a Python factor reads is bars only).
    public func barsOfRows(_ range: Range<Int>) -> MarketData {
        MarketData(instruments: instruments, calendar: calendar.slice(range),
                   spans: spans.map { span in
                       let clipped = span.clamped(to: range)
                       return (clipped.lowerBound - range.lowerBound)..<(clipped.upperBound - range.lowerBound)
                   },
                   fields: fields.mapValues { $0.slicingRows(range) },
                   membership: Membership(rows: membership.rows.map { ranges in
                       ranges.map { $0.clamped(to: range) }.filter { !$0.isEmpty }
                           .map { ($0.lowerBound - range.lowerBound)..<($0.upperBound - range.lowerBound) }
                   }, length: range.count))
    }
}

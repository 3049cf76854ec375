import FactorCore

/// What to load: a universe, fields, an inclusive date range, a frequency and the extra rows around the range
/// that look-back windows and forward labels need.
public struct DataRequest: Sendable, Equatable {
    /// The instruments and their point-in-time membership.
    public var universe: UniverseSpec
    /// Lower-case field names (a leading `$` is ignored); nil = every field.
    public var fields: [String]?
    /// First output bar, inclusive; nil = the calendar start.
    public var start: Timestamp?
    /// Last output bar, inclusive (a date includes all intraday bars of that day); nil = the calendar end.
    public var end: Timestamp?
    /// Bar frequency; nil = the source's base frequency.
    public var frequency: Frequency?
    /// Rows of the requested frequency to load before `start`; nil = the whole history.
    public var lookbackRows: Int?
    /// Rows to load after `end` (for labels such as `Ref($close, -2)`).
    public var lookaheadRows: Int
    /// Extra instrument codes (e.g. `SH000300`) to load as `MarketData.auxiliary`.
    public var auxiliary: [String]
    /// Categorical fields (`industry`, `sector`) to load as `MarketData.categories`, from the classification file.
    public var categories: [String]
    /// Point-in-time fundamentals (`roe_q`) to load as `MarketData.periodFields`, from the `financial/` reports.
    public var periodFields: [String]

    public init(universe: UniverseSpec = .all, fields: [String]? = nil, start: Timestamp? = nil,
                end: Timestamp? = nil, frequency: Frequency? = nil, lookbackRows: Int? = nil,
                lookaheadRows: Int = 0, auxiliary: [String] = [], categories: [String] = [], periodFields: [String] = []) {
        self.categories = categories
        self.periodFields = periodFields
        self.universe = universe
        self.fields = fields
        self.start = start
        self.end = end
        self.frequency = frequency
        self.lookbackRows = lookbackRows
        self.lookaheadRows = lookaheadRows
        self.auxiliary = auxiliary
    }
}

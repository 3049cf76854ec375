/// The whole result of `factorlab evaluate`: settings, the universe and window, and one report per factor.
public struct EvaluationReport: Codable, Sendable {
    public var settings: EvaluationSettings
    public var universe: String
    public var frequency: String
    public var start: String
    public var end: String
    public var instruments: Int
    public var factors: [FactorReport]

    public init(settings: EvaluationSettings, universe: String, frequency: String, start: String, end: String,
                instruments: Int, factors: [FactorReport]) {
        self.settings = settings
        self.universe = universe
        self.frequency = frequency
        self.start = start
        self.end = end
        self.instruments = instruments
        self.factors = factors
    }
}

/// One factor: a report per horizon and the IC decay.
public struct FactorReport: Codable, Sendable {
    public var name: String
    /// The expression, when the factor was computed by FactorLab.
    public var expression: String?
    public var horizons: [HorizonReport]
    public var decay: [DecayPoint]
}

/// Mean Rank IC between the factor on t and the one-bar return on t+k.
public struct DecayPoint: Codable, Sendable, Equatable {
    public var lag: Int
    @NullableNaN public var rankICMean: Double
    /// Rows averaged.
    public var n: Int
}

/// Everything about one factor at one horizon: the summary, the per-row series and the monthly table.
public struct HorizonReport: Codable, Sendable {
    public var horizon: Int
    public var summary: HorizonSummary
    public var series: RowSeries
    public var monthly: [MonthlyIC]
    /// IC by industry group, when industries were given.
    public var industries: [IndustryIC]
}

/// The summary figures of `spec/evaluation.md` for one factor and horizon (over the rows with an IC).
public struct HorizonSummary: Codable, Sendable {
    public var ic: ICSummary
    public var rankIC: ICSummary
    public var longShort: LongShortSummary
    @NullableNaN public var turnoverTop: Double
    @NullableNaN public var turnoverBottom: Double
    @NullableNaN public var autocorrelation: Double
    /// Mean return of groups 1…Q.
    @NullableNaNArray public var groupMeans: [Double]
    /// Window rows, and those without an IC.
    public var rows: Int
    public var rowsWithoutIC: Int
    /// Coverage over the window: member-rows, with a valid factor, with a valid return, in the sample.
    public var coverage: Coverage
}

/// Counts of member-rows (instrument × row pairs) at each stage of the sample rule.
public struct Coverage: Codable, Sendable, Equatable {
    public var members = 0
    public var withFactor = 0
    public var withReturn = 0
    public var inSample = 0
    /// Rows without an IC by reason (`n<min_names`, `factor_constant`, `return_constant`).
    public var rowsWithoutIC: [String: Int] = [:]
}

/// Per-row series of one factor and horizon (column-wise).
public struct RowSeries: Codable, Sendable {
    public var dates: [String]
    public var n: [Int]
    @NullableNaNArray public var ic: [Double]
    @NullableNaNArray public var rankIC: [Double]
    @NullableNaNArray public var longShort: [Double]
    /// groups[k][row]: mean return of group k+1.
    public var groups: [NullableNaNArray]
    @NullableNaNArray public var turnoverTop: [Double]
    @NullableNaNArray public var turnoverBottom: [Double]
    @NullableNaNArray public var autocorrelation: [Double]
    public var members: [Int]
    public var nFactor: [Int]
    public var nReturn: [Int]
    /// Why a row has no IC, or nil.
    public var noICReason: [String?]
}

/// Mean IC and Rank IC of one calendar month's rows with an IC.
public struct MonthlyIC: Codable, Sendable, Equatable {
    public var month: String
    public var n: Int
    @NullableNaN public var icMean: Double
    @NullableNaN public var rankICMean: Double
}

/// Mean IC and Rank IC computed within one industry.
public struct IndustryIC: Codable, Sendable, Equatable {
    public var industry: String
    public var rows: Int
    @NullableNaN public var icMean: Double
    @NullableNaN public var rankICMean: Double
}

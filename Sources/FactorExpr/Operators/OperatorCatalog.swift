/// The operators the language knows: name, arguments and a one-line meaning. The checker reads it; the
/// semantics live with each family's evaluation code in `Evaluator/`.
public struct OperatorSpec: Sendable {
    /// The kind of one argument.
    public enum Parameter: Sendable, Equatable {
        /// Any expression or number.
        case series
        /// A boolean expression (comparison or logic).
        case boolean
        /// A window literal: integer N ≥ 1, 0 for expanding, and when `fractional`, 0 < N < 1 for exponential.
        case window(fractional: Bool)
        /// A signed integer literal (Ref's shift).
        case shift
        /// A number literal in [0, 1].
        case probability
        /// An instrument code as a string literal.
        case instrument
        /// A categorical field (`$industry`, `$sector`): the groups of a group operator.
        case category
        /// A calendar period as a string literal: `'1d'`, `'W'`, `'M'`, `'Q'`, `'Y'`.
        case period
        /// An aggregation's name as a string literal: `'last'`, `'mean'`, `'sum'` …
        case aggregation
        /// A point-in-time field (`$$roe_q`).
        case periodField
        /// A fiscal period literal: `201803` (quarterly) or `2018` (annual).
        case reportPeriod
    }

    public let name: String
    public let parameters: [Parameter]
    public let family: String
    public let summary: String

    /// How the call is written, e.g. `Mean(x, N)`.
    public var signature: String {
        let names = parameters.enumerated().map { i, p -> String in
            switch p {
            case .series: return parameters.filter { $0 == .series }.count > 1 ? ["x", "y", "z"][min(2, i)] : "x"
            case .boolean: return "cond"
            case .window: return "N"
            case .shift: return "N"
            case .probability: return "q"
            case .instrument: return "'CODE'"
            case .category: return "g"
            case .period: return "'freq'"
            case .aggregation: return "'how'"
            case .periodField: return "$$field"
            case .reportPeriod: return "period"
            }
        }
        return "\(name)(\(names.joined(separator: ", ")))"
    }
}

/// Every operator, by name (case-sensitive, like Qlib).
public enum OperatorCatalog {
    public static let all: [OperatorSpec] = elementWise + rolling + pair + crossSection + group + other + worldQuant

    public static let byName: [String: OperatorSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    static let elementWise: [OperatorSpec] = [
        .init(name: "Abs", parameters: [.series], family: "element-wise", summary: "absolute value"),
        .init(name: "Sign", parameters: [.series], family: "element-wise", summary: "-1, 0 or 1; NaN stays NaN"),
        .init(name: "Log", parameters: [.series], family: "element-wise", summary: "natural log; log(0) = -inf, log(<0) = NaN"),
        .init(name: "Neg", parameters: [.series], family: "element-wise", summary: "negation (what unary '-' means)"),
        .init(name: "Not", parameters: [.boolean], family: "logic", summary: "logical not of a boolean"),
        .init(name: "Power", parameters: [.series, .series], family: "element-wise", summary: "x to the power y (infix **)"),
        .init(name: "SignedPower", parameters: [.series, .series], family: "element-wise", summary: "sign(x)·|x|^y (WorldQuant's signedpower; written out as Sign(x)*Power(Abs(x), y))"),
        .init(name: "Add", parameters: [.series, .series], family: "element-wise", summary: "x + y"),
        .init(name: "Sub", parameters: [.series, .series], family: "element-wise", summary: "x - y"),
        .init(name: "Mul", parameters: [.series, .series], family: "element-wise", summary: "x * y"),
        .init(name: "Div", parameters: [.series, .series], family: "element-wise", summary: "x / y, unguarded (x/0 = ±inf)"),
        .init(name: "Greater", parameters: [.series, .series], family: "element-wise", summary: "element-wise max; NaN if either is NaN"),
        .init(name: "Less", parameters: [.series, .series], family: "element-wise", summary: "element-wise min; NaN if either is NaN"),
        .init(name: "Gt", parameters: [.series, .series], family: "comparison", summary: "x > y as 1/0 (infix >)"),
        .init(name: "Ge", parameters: [.series, .series], family: "comparison", summary: "x >= y as 1/0 (infix >=)"),
        .init(name: "Lt", parameters: [.series, .series], family: "comparison", summary: "x < y as 1/0 (infix <)"),
        .init(name: "Le", parameters: [.series, .series], family: "comparison", summary: "x <= y as 1/0 (infix <=)"),
        .init(name: "Eq", parameters: [.series, .series], family: "comparison", summary: "x == y as 1/0 (infix ==)"),
        .init(name: "Ne", parameters: [.series, .series], family: "comparison", summary: "x != y as 1/0 (infix !=; true with NaN)"),
        .init(name: "And", parameters: [.series, .series], family: "logic", summary: "both non-zero (infix &)"),
        .init(name: "Or", parameters: [.series, .series], family: "logic", summary: "either non-zero (infix |)"),
        .init(name: "If", parameters: [.series, .series, .series], family: "logic", summary: "a where cond is non-zero (NaN counts as true), else b"),
    ]

    static let rolling: [OperatorSpec] = [
        .init(name: "Ref", parameters: [.series, .shift], family: "rolling", summary: "x N rows earlier (N < 0: later); Ref(x, 0) is x"),
        .init(name: "Delta", parameters: [.series, .window(fractional: false)], family: "rolling", summary: "x minus x N rows earlier"),
        .init(name: "Mean", parameters: [.series, .window(fractional: true)], family: "rolling", summary: "mean of the window's values (0<N<1: EWM with alpha N)"),
        .init(name: "Sum", parameters: [.series, .window(fractional: true)], family: "rolling", summary: "sum of the window's values (0<N<1: the EWM mean, as in Qlib)"),
        .init(name: "Std", parameters: [.series, .window(fractional: true)], family: "rolling", summary: "sample standard deviation (ddof 1) (0<N<1: the EWM mean, as in Qlib)"),
        .init(name: "Var", parameters: [.series, .window(fractional: true)], family: "rolling", summary: "sample variance (ddof 1) (0<N<1: the EWM mean, as in Qlib)"),
        .init(name: "Skew", parameters: [.series, .window(fractional: true)], family: "rolling", summary: "bias-corrected skewness (pandas); NaN under 3 values (0<N<1: the EWM mean, as in Qlib)"),
        .init(name: "Kurt", parameters: [.series, .window(fractional: true)], family: "rolling", summary: "bias-corrected excess kurtosis (pandas); NaN under 4 values (0<N<1: the EWM mean, as in Qlib)"),
        .init(name: "Max", parameters: [.series, .window(fractional: true)], family: "rolling", summary: "maximum (0<N<1: the EWM mean, as in Qlib)"),
        .init(name: "Min", parameters: [.series, .window(fractional: true)], family: "rolling", summary: "minimum (0<N<1: the EWM mean, as in Qlib)"),
        .init(name: "Med", parameters: [.series, .window(fractional: true)], family: "rolling", summary: "median (0<N<1: the EWM mean, as in Qlib)"),
        .init(name: "Count", parameters: [.series, .window(fractional: true)], family: "rolling", summary: "number of non-NaN values (0<N<1: the EWM mean, as in Qlib)"),
        .init(name: "Mad", parameters: [.series, .window(fractional: true)], family: "rolling", summary: "mean absolute deviation around the mean (0<N<1: the EWM mean, as in Qlib)"),
        .init(name: "Rank", parameters: [.series, .window(fractional: false)], family: "rolling", summary: "percentile rank of today's value in the window (time series)"),
        .init(name: "Quantile", parameters: [.series, .window(fractional: false), .probability], family: "rolling", summary: "linear-interpolated quantile q"),
        .init(name: "IdxMax", parameters: [.series, .window(fractional: false)], family: "rolling", summary: "1-based position of the max from the window's oldest row"),
        .init(name: "IdxMin", parameters: [.series, .window(fractional: false)], family: "rolling", summary: "1-based position of the min from the window's oldest row"),
        .init(name: "Slope", parameters: [.series, .window(fractional: false)], family: "regression", summary: "OLS slope on row positions"),
        .init(name: "Rsquare", parameters: [.series, .window(fractional: false)], family: "regression", summary: "R² of that regression; NaN on flat windows"),
        .init(name: "Resi", parameters: [.series, .window(fractional: false)], family: "regression", summary: "today's residual of that regression"),
        .init(name: "WMA", parameters: [.series, .window(fractional: false)], family: "rolling", summary: "weighted mean, weights 1…N newest heaviest"),
        .init(name: "EMA", parameters: [.series, .window(fractional: true)], family: "rolling", summary: "exponential mean, alpha 2/(N+1) (0<N<1: alpha N)"),
        .init(name: "Product", parameters: [.series, .window(fractional: false)], family: "rolling", summary: "product of the window's non-NaN values (WorldQuant's product)"),
    ]

    static let pair: [OperatorSpec] = [
        .init(name: "Corr", parameters: [.series, .series, .window(fractional: false)], family: "pair", summary: "rolling Pearson correlation; NaN on flat windows"),
        .init(name: "Cov", parameters: [.series, .series, .window(fractional: false)], family: "pair", summary: "rolling sample covariance"),
    ]

    static let crossSection: [OperatorSpec] = [
        .init(name: "CSRank", parameters: [.series], family: "cross-section", summary: "percentile rank across the universe's members on each date, in (0, 1]"),
        .init(name: "CSZScore", parameters: [.series], family: "cross-section", summary: "(x - mean) / std across members on each date"),
        .init(name: "CSDemean", parameters: [.series], family: "cross-section", summary: "x - mean across members on each date"),
        .init(name: "CSScale", parameters: [.series], family: "cross-section", summary: "x / sum(|x|) across members on each date"),
        .init(name: "CSNeutralize", parameters: [.series, .series], family: "cross-section", summary: "residual of x on y (with an intercept) across members on each date"),
        .init(name: "WQRank", parameters: [.series], family: "cross-section", summary: "WorldQuant's rank across members on each date: (rank - 1)/(n - 1) in [0, 1], ties averaged"),
        .init(name: "WQScale", parameters: [.series], family: "cross-section", summary: "WorldQuant's scale: x / sum(|x|) across members on each date (the same as CSScale)"),
    ]

    static let group: [OperatorSpec] = [
        .init(name: "GroupRank", parameters: [.series, .category], family: "group", summary: "percentile rank within the member's group (g: $industry or $sector) on each date"),
        .init(name: "GroupZScore", parameters: [.series, .category], family: "group", summary: "(x - group mean) / group std on each date"),
        .init(name: "GroupDemean", parameters: [.series, .category], family: "group", summary: "x - group mean on each date"),
        .init(name: "GroupNeutralize", parameters: [.series, .category], family: "group", summary: "residual of x on the group dummies on each date (x - group mean)"),
        .init(name: "IndNeutralize", parameters: [.series, .category], family: "group", summary: "WorldQuant's IndNeutralize(x, IndClass): x - its group's mean on each date (GroupNeutralize with a plain sum for the mean)"),
    ]

    static let other: [OperatorSpec] = [
        .init(name: "ChangeInstrument", parameters: [.instrument, .series], family: "instrument", summary: "x evaluated on another instrument (e.g. a benchmark index)"),
        .init(name: "TResample", parameters: [.series, .period, .aggregation], family: "period",
              summary: "the aggregate (first last mean sum max min std var count) of x over the previous calendar period ('1d', 'W', 'M', 'Q', 'Y'), on every row of the current one"),
        .init(name: "P", parameters: [.series], family: "point-in-time",
              summary: "x over the reported periods of $$ fields as known on each date (revisions from their announcement on), the latest period's value"),
        .init(name: "PRef", parameters: [.periodField, .reportPeriod], family: "point-in-time",
              summary: "the value of one fiscal period (201803, or 2018 for an annual field) as known on each date"),
        .init(name: "Mask", parameters: [.series, .instrument], family: "instrument", summary: "Qlib's Mask(x, 'CODE'): x evaluated on another instrument, the same as ChangeInstrument('CODE', x)"),
    ]

    /// WorldQuant 101's operators under BRAIN's conventions (docs/worldquant-101.md): windows are strict (NaN unless
    /// every one of the d rows is finite), unknown values propagate through comparisons and choices.
    static let worldQuant: [OperatorSpec] = {
        func windowed(_ name: String, _ summary: String, pair: Bool = false) -> OperatorSpec {
            .init(name: name, parameters: pair ? [.series, .series, .window(fractional: false)] : [.series, .window(fractional: false)],
                  family: "worldquant", summary: summary)
        }
        func elementWise(_ name: String, _ arity: Int, _ summary: String) -> OperatorSpec {
            .init(name: name, parameters: Array(repeating: .series, count: arity), family: "worldquant", summary: summary)
        }
        return [
            windowed("WQSum", "sum of the last N rows (strict window)"),
            windowed("WQMean", "mean of the last N rows (strict window; adv{d} is WQMean($volume, d))"),
            windowed("WQProduct", "product of the last N rows (strict window)"),
            windowed("WQStdDev", "population standard deviation (ddof 0) of the last N rows (strict window)"),
            windowed("WQTsMin", "minimum of the last N rows (strict window)"),
            windowed("WQTsMax", "maximum of the last N rows (strict window)"),
            windowed("WQTsRank", "rank of today's value among the last N rows, (rank - 1)/(N - 1), ties averaged (strict window)"),
            windowed("WQTsArgMax", "days since the maximum of the last N rows (today 0; ties: the oldest) (strict window)"),
            windowed("WQTsArgMin", "days since the minimum of the last N rows (today 0; ties: the oldest) (strict window)"),
            windowed("WQDecayLinear", "weighted mean of the last N rows, weights N (today) … 1; a NaN row counts 0, NaN only when none has a value"),
            windowed("WQCorrelation", "Pearson correlation over the last N rows; NaN on flat windows (strict window)", pair: true),
            windowed("WQCovariance", "population covariance (ddof 0) over the last N rows (strict window)", pair: true),
            elementWise("WQLog", 1, "natural log; NaN for x <= 0"),
            elementWise("WQPower", 2, "BRAIN's power, the paper's ^: |x|^y, negative for x < 0 and an odd integer y; 0 when x = 0"),
            elementWise("WQSignedPower", 2, "sign(x)·|x|^y; NaN when not finite"),
            elementWise("WQMin", 2, "element-wise minimum skipping a NaN side (fmin)"),
            elementWise("WQMax", 2, "element-wise maximum skipping a NaN side (fmax)"),
            elementWise("WQLt", 2, "x < y as 1/0; NaN when either side is NaN or infinite"),
            elementWise("WQLe", 2, "x <= y as 1/0; NaN when either side is NaN or infinite"),
            elementWise("WQGt", 2, "x > y as 1/0; NaN when either side is NaN or infinite"),
            elementWise("WQGe", 2, "x >= y as 1/0; NaN when either side is NaN or infinite"),
            elementWise("WQEq", 2, "x == y as 1/0; NaN when either side is NaN or infinite"),
            elementWise("WQOr", 2, "three-valued or: 1 if either is 1, 0 if both are 0, else NaN"),
            elementWise("WQAnd", 2, "three-valued and: 0 if either is 0, 1 if both are 1, else NaN"),
            elementWise("WQIf", 3, "a where cond is 1, b where it is 0, NaN otherwise (the paper's cond ? a : b)"),
        ]
    }()
}

/// A checked expression: every operator known, every argument of the right kind, windows literal.
public indirect enum Expr: Sendable, Hashable {
    /// A data field, lower case (`close`).
    case field(String)
    /// A number.
    case constant(Double)
    /// An operation over sub-expressions.
    case apply(Operation, [Expr])

    /// The sub-expressions.
    public var children: [Expr] {
        if case .apply(_, let args) = self { return args }
        return []
    }

    /// True when some field is a point-in-time one (`$$roe_q`, kept as the field `$roe_q`).
    public var readsPeriodField: Bool {
        switch self {
        case .field(let f): return f.hasPrefix("$")
        case .constant: return false
        case .apply(_, let args): return args.contains { $0.readsPeriodField }
        }
    }

    /// The fields the expression reads, lower case (point-in-time ones with their `$`: `$roe_q`).
    public var fieldNames: Set<String> {
        switch self {
        case .field(let f): return [f]
        case .constant: return []
        case .apply(_, let args): return args.reduce(into: Set<String>()) { $0.formUnion($1.fieldNames) }
        }
    }

    /// True for expressions whose values are booleans (1/0): comparisons and logic.
    public var isBoolean: Bool {
        guard case .apply(let op, _) = self else { return false }
        switch op {
        case .unary(.not): return true
        case .binary(let b): return b.isComparison || b == .and || b == .or
        default: return false
        }
    }
}

/// The rows a rolling operator looks at.
public enum Window: Sendable, Hashable {
    /// The last N calendar rows (N ≥ 1).
    case rows(Int)
    /// Every row so far (written N = 0).
    case expanding
    /// Exponential weighting with this alpha (written 0 < N < 1).
    case alpha(Double)

    /// Rows the kernels scan (`Int.max` for expanding).
    var kernelWindow: Int {
        switch self {
        case .rows(let n): return n
        case .expanding, .alpha: return Int.max
        }
    }
}

public enum UnaryOperator: String, Sendable, Hashable, CaseIterable {
    case abs = "Abs", sign = "Sign", log = "Log", not = "Not", neg = "Neg"
}

public enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
    case add = "Add", sub = "Sub", mul = "Mul", div = "Div", power = "Power"
    case greater = "Greater", less = "Less"
    case gt = "Gt", ge = "Ge", lt = "Lt", le = "Le", eq = "Eq", ne = "Ne"
    case and = "And", or = "Or"

    var isComparison: Bool { [.gt, .ge, .lt, .le, .eq, .ne].contains(self) }
    /// Operand order does not change any result bit (IEEE addition and multiplication commute).
    var isCommutative: Bool { [.add, .mul, .greater, .less, .eq, .ne, .and, .or].contains(self) }
}

public enum RollingOperator: String, Sendable, Hashable, CaseIterable {
    case mean = "Mean", sum = "Sum", std = "Std", variance = "Var", skew = "Skew", kurt = "Kurt"
    case max = "Max", min = "Min", median = "Med", count = "Count", mad = "Mad", rank = "Rank"
    case idxMax = "IdxMax", idxMin = "IdxMin", slope = "Slope", rsquare = "Rsquare", resi = "Resi"
    case wma = "WMA", ema = "EMA", product = "Product"
}

public enum PairOperator: String, Sendable, Hashable, CaseIterable {
    case corr = "Corr", cov = "Cov"
}

public enum CrossSectionOperator: String, Sendable, Hashable, CaseIterable {
    case rank = "CSRank", zscore = "CSZScore", demean = "CSDemean", scale = "CSScale"
    /// WorldQuant's `rank`: (r − 1) / (n − 1) in [0, 1], ties averaged.
    case unitRank = "WQRank"
}

/// WorldQuant 101's operators with the conventions of its BRAIN platform (as `alpha101v` implements them), where
/// they differ from Qlib's operators of the same idea: strict windows (NaN unless every one of the d rows has a
/// value), population moments, days-ago positions, NaN-propagating comparisons. See docs/worldquant-101.md.
public enum WorldQuantOperator: String, Sendable, Hashable, CaseIterable {
    case sum = "WQSum", mean = "WQMean", product = "WQProduct", stdDev = "WQStdDev"
    case tsMin = "WQTsMin", tsMax = "WQTsMax", tsRank = "WQTsRank", tsArgMax = "WQTsArgMax", tsArgMin = "WQTsArgMin"
    case decayLinear = "WQDecayLinear", correlation = "WQCorrelation", covariance = "WQCovariance"
    case log = "WQLog", power = "WQPower", signedPower = "WQSignedPower", min = "WQMin", max = "WQMax"
    case lt = "WQLt", le = "WQLe", gt = "WQGt", ge = "WQGe", eq = "WQEq", or = "WQOr", and = "WQAnd"
    case ifThenElse = "WQIf"

    /// Whether the operator takes a window of d rows (its last argument).
    public var hasWindow: Bool {
        switch self {
        case .sum, .mean, .product, .stdDev, .tsMin, .tsMax, .tsRank, .tsArgMax, .tsArgMin, .decayLinear, .correlation, .covariance:
            return true
        default:
            return false
        }
    }
}

/// Cross-sectional transforms within the groups of a categorical field (industries) on each date.
public enum GroupOperator: String, Sendable, Hashable, CaseIterable {
    case rank = "GroupRank", zscore = "GroupZScore", demean = "GroupDemean", neutralize = "GroupNeutralize"
    /// WorldQuant's `IndNeutralize`: x − the group's plain mean (see `CrossSection.Transform.plainDemean`).
    case indNeutralize = "IndNeutralize"
}

/// The categorical fields: what the data says each instrument belongs to on each date.
public enum CategoryField {
    /// `$industry` (the industry code) and `$sector` (the broad section of the classification).
    public static let names: Set<String> = ["industry", "sector"]
}

/// What an `Expr.apply` node computes.
public enum Operation: Sendable, Hashable {
    case unary(UnaryOperator)
    case binary(BinaryOperator)
    /// `If(cond, a, b)`.
    case ifThenElse
    /// `Ref(x, N)`: x N rows earlier (later when N < 0).
    case ref(Int)
    /// `Delta(x, N)`: x minus x N rows earlier.
    case delta(Int)
    case rolling(RollingOperator, Window)
    /// `Quantile(x, N, q)`.
    case quantile(Window, Double)
    case pair(PairOperator, Window)
    case crossSection(CrossSectionOperator)
    /// `GroupRank(x, $industry)` and its kin: a cross-sectional transform within each group of the categorical field.
    case group(GroupOperator, String)
    /// `CSNeutralize(x, y)`: the residual of x on y (with an intercept) across the members on each date.
    case csNeutralize
    /// `ChangeInstrument('CODE', x)`: x evaluated on another instrument.
    case changeInstrument(String)
    /// `TResample(x, 'W', 'mean')`: the aggregate of x over the calendar period before each row's own.
    case resample(PeriodResample)
    /// `P(x)`: x computed over the reported periods of point-in-time fields as known on each date, its latest period.
    case pointInTime
    /// `PRef($$roe_q, 201803)`: the value of one reported period as known on each date.
    case periodRef(Int)
    /// A WorldQuant-convention operator; the window d for the time-series ones, else 0.
    case worldQuant(WorldQuantOperator, Int)

    /// Whether the node needs every member of the universe on a date at once.
    public var isCrossSectional: Bool {
        switch self {
        case .crossSection, .group, .csNeutralize: return true
        default: return false
        }
    }

    /// The operator's name as written in expressions.
    public var name: String {
        switch self {
        case .unary(let u): return u.rawValue
        case .binary(let b): return b.rawValue
        case .ifThenElse: return "If"
        case .ref: return "Ref"
        case .delta: return "Delta"
        case .rolling(let r, _): return r.rawValue
        case .quantile: return "Quantile"
        case .pair(let p, _): return p.rawValue
        case .crossSection(let c): return c.rawValue
        case .group(let g, _): return g.rawValue
        case .csNeutralize: return "CSNeutralize"
        case .changeInstrument: return "ChangeInstrument"
        case .resample: return "TResample"
        case .pointInTime: return "P"
        case .periodRef: return "PRef"
        case .worldQuant(let w, _): return w.rawValue
        }
    }
}

/// Everything that parameterises an evaluation (`spec/evaluation.md`).
public struct EvaluationSettings: Codable, Sendable, Equatable {
    /// Forward-return horizons h, in bars of the evaluation frequency.
    public var horizons: [Int]
    /// Entry delay d in bars: the return runs from the close of t+d to the close of t+d+h (1 = Qlib's label).
    public var delay: Int
    /// Number of quantile groups Q.
    public var quantiles: Int
    /// Rows whose sample has fewer names have no IC.
    public var minNames: Int
    /// IC decay lags 0…K.
    public var decayLags: Int
    /// Bars per year for annualising (252 daily, 52 weekly, 12 monthly, 252 × bars per day intraday).
    public var periodsPerYear: Double
    /// Optional per-row preprocessing of the factor, applied in the order winsorize → neutralize → z-score.
    public var preprocessing: Preprocessing

    public init(horizons: [Int] = [1, 5, 20], delay: Int = 1, quantiles: Int = 5, minNames: Int = 2,
                decayLags: Int = 10, periodsPerYear: Double = 252, preprocessing: Preprocessing = Preprocessing()) {
        self.horizons = horizons
        self.delay = delay
        self.quantiles = quantiles
        self.minNames = minNames
        self.decayLags = decayLags
        self.periodsPerYear = periodsPerYear
        self.preprocessing = preprocessing
    }

    /// Rows of data needed after the last evaluation row (returns and decay look ahead).
    public var lookaheadRows: Int {
        max(delay + (horizons.max() ?? 1), delay + decayLags + 1)
    }
}

/// Per-row preprocessing of factor values over the universe's members.
public struct Preprocessing: Codable, Sendable, Equatable {
    public enum Winsorize: Codable, Sendable, Equatable {
        /// Clip to median ± k·1.4826·MAD.
        case mad(Double)
        /// Clip to the [p, 1−p] quantiles.
        case quantile(Double)
    }

    public var winsorize: Winsorize?
    /// Replace the factor by its residual on industry dummies (its deviation from the industry mean).
    public var neutralizeIndustry: Bool
    /// An expression for market value (e.g. `$market_value`, or `$close*$shares`): the factor is replaced by its
    /// residual of an OLS regression on log of it (with the industry dummies when `neutralizeIndustry`, else an
    /// intercept). Nil: no size neutralization (and, being absent from the JSON, settings hashes stay as before).
    public var sizeExpression: String?
    /// Replace the factor by (f − mean) / std.
    public var zscore: Bool

    public init(winsorize: Winsorize? = nil, neutralizeIndustry: Bool = false, sizeExpression: String? = nil, zscore: Bool = false) {
        self.winsorize = winsorize
        self.neutralizeIndustry = neutralizeIndustry
        self.sizeExpression = sizeExpression
        self.zscore = zscore
    }

    public var isEmpty: Bool { winsorize == nil && !neutralizeIndustry && sizeExpression == nil && !zscore }

    /// In the words of the tables: "raw", or e.g. "winsorize mad:3 · neutralize industry · zscore".
    public var summary: String {
        var parts: [String] = []
        switch winsorize {
        case .mad(let k)?: parts.append("winsorize mad:\(Self.number(k))")
        case .quantile(let p)?: parts.append("winsorize quantile:\(Self.number(p))")
        case nil: break
        }
        let neutral = (neutralizeIndustry ? ["industry"] : []) + (sizeExpression != nil ? ["size"] : [])
        if !neutral.isEmpty { parts.append("neutralize " + neutral.joined(separator: ",") + (sizeExpression.map { " (size \($0))" } ?? "")) }
        if zscore { parts.append("zscore") }
        return parts.isEmpty ? "raw" : parts.joined(separator: " · ")
    }

    private static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
}

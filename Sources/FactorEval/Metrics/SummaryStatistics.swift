import Foundation

/// Summaries of a per-row series (IC, Rank IC, long-short), as `spec/evaluation.md` defines them.
public enum SummaryStatistics {
    /// Arithmetic mean of the finite values; NaN when there are none.
    public static func mean(_ x: [Double]) -> Double {
        var s = 0.0, n = 0
        for v in x where v.isFinite { s += v; n += 1 }
        return n == 0 ? .nan : s / Double(n)
    }

    /// Sample standard deviation (ddof 1) of the finite values; NaN under two.
    public static func std(_ x: [Double]) -> Double {
        let values = x.filter(\.isFinite)
        if values.count < 2 { return .nan }
        let m = values.reduce(0, +) / Double(values.count)
        var ss = 0.0
        for v in values { ss += (v - m) * (v - m) }
        return (ss / Double(values.count - 1)).squareRoot()
    }

    /// Newey-West t-statistic of the mean of `x` (in order) with Bartlett weights and `lags` lags:
    /// γ_j = (1/n)·Σ_{t>j} e_t·e_{t−j}, S = γ_0 + 2·Σ_{j=1…L} (1 − j/(L+1))·γ_j, t = mean / √(S/n).
    /// Equals statsmodels `OLS(x, 1).fit(cov_type='HAC', cov_kwds={'maxlags': L})`.
    public static func neweyWestT(_ x: [Double], lags: Int) -> Double {
        let n = x.count
        if n < 2 { return .nan }
        let m = x.reduce(0, +) / Double(n)
        let e = x.map { $0 - m }
        func gamma(_ j: Int) -> Double {
            var s = 0.0
            if j < n { for t in j..<n { s += e[t] * e[t - j] } }
            return s / Double(n)
        }
        var s = gamma(0)
        let l = max(0, lags)
        if l > 0 { for j in 1...l { s += 2 * (1 - Double(j) / Double(l + 1)) * gamma(j) } }
        return m / (s / Double(n)).squareRoot()
    }

    /// Mean, std, ICIR = mean/std, t = mean/std·√n, Newey-West t, share of values > 0 and n, over finite values.
    public static func informationCoefficient(_ x: [Double], neweyWestLags: Int) -> ICSummary {
        let values = x.filter(\.isFinite)
        let m = mean(values), s = std(values)
        let n = Double(values.count)
        return ICSummary(mean: m, std: s, ir: m / s, t: m / s * n.squareRoot(),
                         neweyWestT: neweyWestT(values, lags: neweyWestLags),
                         positive: values.isEmpty ? .nan : Double(values.filter { $0 > 0 }.count) / n,
                         n: values.count)
    }

    /// Long-short figures over the finite values (in date order) with `periodsPerYear` P.
    public static func longShort(_ x: [Double], periodsPerYear p: Double) -> LongShortSummary {
        let values = x.filter(\.isFinite)
        let m = mean(values), s = std(values)
        var wealth = 1.0, peak = 1.0, drawdown = 0.0
        for v in values {
            wealth *= 1 + v
            peak = max(peak, wealth)
            drawdown = min(drawdown, wealth / peak - 1)
        }
        return LongShortSummary(mean: m, std: s, annualReturn: m * p, annualVolatility: s * p.squareRoot(),
                                sharpe: m / s * p.squareRoot(), cumulativeReturn: values.isEmpty ? .nan : wealth - 1,
                                maxDrawdown: values.isEmpty ? .nan : drawdown, n: values.count)
    }

    /// The cumulative curve Π(1 + x) − 1 over the finite values, and its drawdown, per row (NaN rows carry over).
    public static func cumulativeCurve(_ x: [Double]) -> (curve: [Double], drawdown: [Double]) {
        var wealth = 1.0, peak = 1.0
        var curve: [Double] = [], dd: [Double] = []
        for v in x {
            if v.isFinite { wealth *= 1 + v; peak = max(peak, wealth) }
            curve.append(wealth - 1)
            dd.append(wealth / peak - 1)
        }
        return (curve, dd)
    }
}

/// Summary of an IC-like series.
public struct ICSummary: Codable, Sendable, Equatable {
    @NullableNaN public var mean: Double
    @NullableNaN public var std: Double
    @NullableNaN public var ir: Double
    @NullableNaN public var t: Double
    @NullableNaN public var neweyWestT: Double
    @NullableNaN public var positive: Double
    public var n: Int
}

/// Summary of a long-short return series.
public struct LongShortSummary: Codable, Sendable, Equatable {
    @NullableNaN public var mean: Double
    @NullableNaN public var std: Double
    @NullableNaN public var annualReturn: Double
    @NullableNaN public var annualVolatility: Double
    @NullableNaN public var sharpe: Double
    @NullableNaN public var cumulativeReturn: Double
    @NullableNaN public var maxDrawdown: Double
    public var n: Int
}

/// WorldQuant's window moments computed from their definition on every strict window (all d values finite), two
/// passes over the window in row order: no running sums, so a flat window's spread is exactly 0 and a tie stays a tie.
///
/// The order of operations is fixed (oldest row first, sums accumulated left to right), so that the same window
/// gives the same bits wherever it occurs; `interop/wq101_check.py` recomputes these definitions with numpy in the
/// same order.
public enum WindowMoments {
    public enum Statistic: Sendable {
        case sum, mean
        /// Population standard deviation (ddof 0).
        case standardDeviation
    }

    public enum PairStatistic: Sendable {
        /// Pearson correlation; NaN when either side is flat (every value the same).
        case correlation
        /// Population covariance (ddof 0).
        case covariance
    }

    public static func compute(_ statistic: Statistic, _ x: UnsafeBufferPointer<Double>, window d: Int,
                               into out: UnsafeMutableBufferPointer<Double>) {
        var run = 0
        for t in 0..<x.count {
            run = x[t].isFinite ? run + 1 : 0
            guard run >= d, d >= 1 else {
                out[t] = .nan
                continue
            }
            let first = t - d + 1
            let sum = windowSum(x, first, d)
            switch statistic {
            case .sum: out[t] = sum
            case .mean: out[t] = sum / Double(d)
            case .standardDeviation:
                out[t] = (squaredDeviations(x, first, d, mean: sum / Double(d)) / Double(d)).squareRoot()
            }
        }
    }

    public static func compute(_ statistic: PairStatistic, _ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>,
                               window d: Int, into out: UnsafeMutableBufferPointer<Double>) {
        var run = 0
        for t in 0..<min(x.count, y.count) {
            run = x[t].isFinite && y[t].isFinite ? run + 1 : 0
            guard run >= d, d >= 1 else {
                out[t] = .nan
                continue
            }
            let first = t - d + 1
            let mx = windowSum(x, first, d) / Double(d), my = windowSum(y, first, d) / Double(d)
            var sxy = (x[first] - mx) * (y[first] - my)
            for r in (first + 1)..<(first + d) { sxy = sxy + (x[r] - mx) * (y[r] - my) }
            switch statistic {
            case .covariance:
                out[t] = sxy / Double(d)
            case .correlation:
                let sxx = squaredDeviations(x, first, d, mean: mx), syy = squaredDeviations(y, first, d, mean: my)
                let r = sxx == 0 || syy == 0 ? Double.nan : sxy / (sxx * syy).squareRoot()
                out[t] = r.isFinite ? r : .nan
            }
        }
    }

    @inline(__always)
    static func windowSum(_ x: UnsafeBufferPointer<Double>, _ first: Int, _ d: Int) -> Double {
        var s = x[first]
        for r in (first + 1)..<(first + d) { s = s + x[r] }
        return s
    }

    /// Σ (x − mean)², exactly 0 when every value of the window is the same.
    @inline(__always)
    static func squaredDeviations(_ x: UnsafeBufferPointer<Double>, _ first: Int, _ d: Int, mean: Double) -> Double {
        var flat = true
        var q = (x[first] - mean) * (x[first] - mean)
        for r in (first + 1)..<(first + d) {
            if x[r] != x[first] { flat = false }
            q = q + (x[r] - mean) * (x[r] - mean)
        }
        return flat ? 0 : q
    }
}

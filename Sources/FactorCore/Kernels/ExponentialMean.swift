/// Exponentially weighted mean, pandas `ewm(alpha:, adjust=True, ignore_na=False, min_periods=1).mean()`.
///
/// Weights decay by (1 − alpha) per calendar row, NaN rows included; a NaN row repeats the previous value.
public enum ExponentialMean {
    public static func compute(_ x: UnsafeBufferPointer<Double>, alpha: Double,
                               into out: UnsafeMutableBufferPointer<Double>) {
        let n = x.count
        guard n > 0 else { return }
        let oldFactor = 1 - alpha
        var weighted = x[0]
        var oldWeight = 1.0
        out[0] = weighted
        for i in 1..<n {
            let current = x[i]
            let observed = !current.isNaN
            if !weighted.isNaN {
                oldWeight *= oldFactor
                if observed {
                    if weighted != current {
                        weighted = (oldWeight * weighted + current) / (oldWeight + 1)
                    }
                    oldWeight += 1
                }
            } else if observed {
                weighted = current
            }
            out[i] = weighted
        }
    }
}

/// WorldQuant's strict windows over one series: a value only where each of the last d rows holds a finite value.
public enum StrictWindow {
    /// Sets `out[t]` to NaN wherever the `window` rows ending at t are not all finite in `validity` (the operator's
    /// input, or the sum of a pair's inputs, which is NaN where either is); rows before the series count as missing.
    public static func mask(_ out: UnsafeMutableBufferPointer<Double>, validity: UnsafeBufferPointer<Double>, window: Int) {
        var run = 0
        for t in 0..<out.count {
            run = validity[t].isFinite ? run + 1 : 0
            if run < window { out[t] = .nan }
        }
    }
}

extension StrictWindow {
    /// WorldQuant's `ts_rank(x, d)`: the average rank of today's value among the window's d values, as (r − 1)/(d − 1)
    /// in [0, 1]; NaN unless all d values are finite (and for d = 1, which has no spread of ranks).
    public static func rankOfLast(_ x: UnsafeBufferPointer<Double>, window d: Int, into out: UnsafeMutableBufferPointer<Double>) {
        var run = 0
        for t in 0..<x.count {
            run = x[t].isFinite ? run + 1 : 0
            guard run >= d, d >= 2 else {
                out[t] = .nan
                continue
            }
            let today = x[t]
            var less = 0.0, equal = 0.0
            for r in (t - d + 1)...t {
                if x[r] < today { less += 1 } else if x[r] == today { equal += 1 }
            }
            // 1 + less + (equal − 1)/2 is the average rank (scipy's rankdata), counted the way alpha101v counts it.
            let rank = 1.0 + less + (equal - 1.0) / 2.0
            out[t] = (rank - 1.0) / (Double(d) - 1.0)
        }
    }
}

/// WorldQuant's `decay_linear(x, d)` over one series, with BRAIN's sparse handling of missing values:
/// Σ_{k<d} x[t−k]·(d − k)/(d(d+1)/2), today weighted most; a NaN inside the window counts as 0 and keeps its weight
/// in the denominator; a window without a value gives NaN.
public enum LinearDecay {
    /// `rowsBefore`: rows of the data before the series' first row (an instrument listed inside the loaded range);
    /// they had no value, so they count as zeros. A window reaching before the data's first row is NaN (BRAIN's
    /// warm-up: the first d − 1 rows of the data).
    public static func compute(_ x: UnsafeBufferPointer<Double>, window d: Int, rowsBefore: Int,
                               into out: UnsafeMutableBufferPointer<Double>) {
        let n = x.count
        guard d >= 1 else {
            for t in 0..<n { out[t] = .nan }
            return
        }
        // Normalised weights by age, summed newest first: the order alpha101v adds them in, so results agree to the bit.
        let total = Double(d) * Double(d + 1) / 2
        let weights = (0..<d).map { Double(d - $0) / total }
        var valuesInWindow = 0
        for t in 0..<n {
            if !x[t].isNaN { valuesInWindow += 1 }
            if t >= d, !x[t - d].isNaN { valuesInWindow -= 1 }
            if rowsBefore + t < d - 1 || valuesInWindow == 0 {
                out[t] = .nan
                continue
            }
            var sum = 0.0
            for age in 0..<d {
                let r = t - age
                let v = r >= 0 && !x[r].isNaN ? x[r] : 0
                sum += v * weights[age]
            }
            out[t] = sum
        }
    }
}

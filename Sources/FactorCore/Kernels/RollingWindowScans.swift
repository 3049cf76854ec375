/// Rolling statistics computed by scanning each window (O(n·N)): used by the rarely used operators whose exact
/// pandas definitions have no cheap running form — Mad, Skew, Kurt, WMA.
public enum RollingWindowScans {
    public enum Statistic: Sendable {
        /// Mean absolute deviation around the window mean (Qlib: `nanmean(|x − nanmean(x)|)`).
        case meanAbsoluteDeviation
        /// pandas bias-corrected sample skewness; NaN under 3 values, 0 for a constant window.
        case skewness
        /// pandas bias-corrected excess kurtosis; NaN under 4 values, −3 for a constant window.
        case kurtosis
        /// Weighted mean with weights 1…w by window position (newest heaviest), over the non-NaN values.
        case weightedMean
    }

    public static func compute(_ statistic: Statistic, _ x: UnsafeBufferPointer<Double>, window: Int,
                               into out: UnsafeMutableBufferPointer<Double>) {
        let n = x.count
        for t in 0..<n {
            let lo = window == Int.max ? 0 : max(0, t - window + 1)
            out[t] = scan(statistic, x, lo, t)
        }
    }

    @inline(__always)
    static func scan(_ statistic: Statistic, _ x: UnsafeBufferPointer<Double>, _ lo: Int, _ hi: Int) -> Double {
        var count = 0
        var sum = 0.0
        var allSame = true
        var first = Double.nan
        for i in lo...hi where !x[i].isNaN {
            if count == 0 { first = x[i] } else if x[i] != first { allSame = false }
            count += 1
            sum += x[i]
        }
        if count == 0 { return .nan }
        switch statistic {
        case .weightedMean:
            var num = 0.0, den = 0.0
            for i in lo...hi where !x[i].isNaN {
                let weight = Double(i - lo + 1)
                num += weight * x[i]
                den += weight
            }
            return num / den
        case .meanAbsoluteDeviation:
            let mean = sum / Double(count)
            var dev = 0.0
            for i in lo...hi where !x[i].isNaN { dev += abs(x[i] - mean) }
            return dev / Double(count)
        case .skewness:
            if count < 3 { return .nan }
            if allSame { return 0 }
            let nn = Double(count), mean = sum / nn
            var m2 = 0.0, m3 = 0.0
            for i in lo...hi where !x[i].isNaN {
                let d = x[i] - mean
                m2 += d * d; m3 += d * d * d
            }
            m2 /= nn; m3 /= nn
            if !(m2 > 1e-14) { return .nan }
            let r = m2.squareRoot()
            return ((nn * (nn - 1)).squareRoot() * m3) / ((nn - 2) * r * r * r)
        case .kurtosis:
            if count < 4 { return .nan }
            if allSame { return -3 }
            let nn = Double(count), mean = sum / nn
            var m2 = 0.0, m4 = 0.0
            for i in lo...hi where !x[i].isNaN {
                let d = x[i] - mean
                let d2 = d * d
                m2 += d2; m4 += d2 * d2
            }
            m2 /= nn; m4 /= nn
            if !(m2 > 1e-14) { return .nan }
            let k = (nn * nn - 1) * m4 / (m2 * m2) - 3 * (nn - 1) * (nn - 1)
            return k / ((nn - 2) * (nn - 3))
        }
    }
}

/// Rolling sum, mean, count, variance and standard deviation over one series, O(n).
///
/// Every kernel reads `x[0..<n]` (one instrument's span) and writes `out[0..<n]`. A window of `window` rows ending at
/// row t covers rows max(0, t−window+1)…t; `window == Int.max` is an expanding window. NaN rows are skipped
/// (Qlib's `min_periods=1`): a window without a value gives NaN (Count gives 0).
///
/// Running sums are taken around an anchor value and recomputed exactly every `window` rows, which bounds
/// rounding drift and cancellation without giving up O(n).
public enum RollingMoments {
    /// What a moment window can report.
    public enum Statistic: Sendable { case sum, mean, count, variance, std }

    public static func compute(_ statistic: Statistic, _ x: UnsafeBufferPointer<Double>, window: Int,
                               into out: UnsafeMutableBufferPointer<Double>) {
        let n = x.count
        guard n > 0 else { return }
        let w = max(1, window)
        var acc = MomentAccumulator()
        var anchorDue = 0  // recompute exactly when t reaches this
        var t = 0
        while t < n {
            let lo = w == Int.max ? 0 : max(0, t - w + 1)
            if t >= anchorDue {
                acc.rebuild(x, lo...t)
                anchorDue = w == Int.max ? Int.max : t + w
            } else {
                acc.add(x[t])
                if w != Int.max && t - w >= 0 { acc.remove(x[t - w]) }
            }
            out[t] = acc.value(statistic)
            t += 1
        }
    }
}

/// Sums of (v − anchor) and its square over the valid values of a window, plus counts of infinities and a
/// run of identical values (pandas reports exactly 0 variance for a constant window). Sums around an anchor taken
/// from the window and rebuilt every window length keep rounding at the level of the window's own spread.
struct MomentAccumulator {
    var anchor = 0.0
    var count = 0
    var s1 = 0.0
    var s2 = 0.0
    var posInf = 0
    var negInf = 0
    var sameRun = 0  // consecutive identical valid values ending at the newest one
    var lastValue = Double.nan

    mutating func rebuild(_ x: UnsafeBufferPointer<Double>, _ range: ClosedRange<Int>) {
        self = MomentAccumulator()
        for i in range where x[i].isFinite { anchor = x[i]; break }
        for i in range { add(x[i]) }
    }

    @inline(__always)
    mutating func add(_ v: Double) {
        if v.isNaN { return }
        count += 1
        if v == lastValue { sameRun += 1 } else { sameRun = 1; lastValue = v }
        if v.isInfinite {
            if v > 0 { posInf += 1 } else { negInf += 1 }
            return
        }
        let d = v - anchor
        s1 += d
        s2 += d * d
    }

    @inline(__always)
    mutating func remove(_ v: Double) {
        if v.isNaN { return }
        count -= 1
        if sameRun > count { sameRun = count }
        if v.isInfinite {
            if v > 0 { posInf -= 1 } else { negInf -= 1 }
            return
        }
        let d = v - anchor
        s1 -= d
        s2 -= d * d
    }

    @inline(__always)
    func value(_ statistic: RollingMoments.Statistic) -> Double {
        switch statistic {
        case .count:
            return Double(count)
        case .sum, .mean:
            if count == 0 { return .nan }
            if posInf > 0 || negInf > 0 {
                return posInf > 0 && negInf > 0 ? .nan : (posInf > 0 ? .infinity : -.infinity)
            }
            let finite = count
            let total = s1 + Double(finite) * anchor
            return statistic == .sum ? total : total / Double(finite)
        case .variance, .std:
            if count < 2 || posInf > 0 || negInf > 0 { return .nan }
            if sameRun >= count { return 0 }
            let nn = Double(count)
            var v = (s2 - s1 * s1 / nn) / (nn - 1)
            if v < 0 { v = 0 }
            return statistic == .variance ? v : v.squareRoot()
        }
    }
}

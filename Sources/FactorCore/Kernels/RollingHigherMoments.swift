/// Rolling skewness and excess kurtosis (pandas' bias-corrected definitions), O(n): power sums around an anchor,
/// rebuilt at the start of every block of `window` rows.
public enum RollingHigherMoments {
    public enum Statistic: Sendable {
        /// NaN under 3 values, 0 for a constant window, NaN when the variance is ≤ 1e-14 (pandas).
        case skewness
        /// NaN under 4 values, −3 for a constant window, NaN when the variance is ≤ 1e-14 (pandas).
        case kurtosis
    }

    public static func compute(_ statistic: Statistic, _ x: UnsafeBufferPointer<Double>, window: Int,
                               into out: UnsafeMutableBufferPointer<Double>) {
        let n = x.count
        guard n > 0 else { return }
        let w = max(1, window)
        var acc = PowerSums()
        var blockStart = 0
        while blockStart < n {
            let blockEnd = w == Int.max ? n : min(n, blockStart + w)
            acc.rebuild(x, (w == Int.max ? 0 : max(0, blockStart - w + 1))...blockStart)
            var t = blockStart
            while t < blockEnd {
                if t > blockStart {
                    acc.add(x[t])
                    if t >= w { acc.remove(x[t - w]) }
                }
                out[t] = statistic == .skewness ? acc.skewness() : acc.kurtosis()
                t += 1
            }
            blockStart = blockEnd
        }
    }
}

/// Σd, Σd², Σd³, Σd⁴ of d = v − anchor over the valid values of a window.
struct PowerSums {
    var anchor = 0.0
    var count = 0
    var s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0
    var infinities = 0
    var sameRun = 0
    var lastValue = Double.nan

    mutating func rebuild(_ x: UnsafeBufferPointer<Double>, _ range: ClosedRange<Int>) {
        self = PowerSums()
        for i in range where x[i].isFinite { anchor = x[i]; break }
        for i in range { add(x[i]) }
    }

    @inline(__always)
    mutating func add(_ v: Double) {
        if v.isNaN { return }
        count += 1
        if v == lastValue { sameRun += 1 } else { sameRun = 1; lastValue = v }
        if v.isInfinite { infinities += 1; return }
        let d = v - anchor, d2 = d * d
        s1 += d; s2 += d2; s3 += d2 * d; s4 += d2 * d2
    }

    @inline(__always)
    mutating func remove(_ v: Double) {
        if v.isNaN { return }
        count -= 1
        if sameRun > count { sameRun = count }
        if v.isInfinite { infinities -= 1; return }
        let d = v - anchor, d2 = d * d
        s1 -= d; s2 -= d2; s3 -= d2 * d; s4 -= d2 * d2
    }

    /// Central moments (population) of the window: (B, C, D) = (m2, m3, m4), pandas' names.
    @inline(__always)
    private func central() -> (b: Double, c: Double, d: Double) {
        let n = Double(count)
        let a = s1 / n
        let b = s2 / n - a * a
        let c = s3 / n - a * a * a - 3 * a * b
        let d = s4 / n - a * a * a * a - 6 * b * a * a - 4 * c * a
        return (b, c, d)
    }

    func skewness() -> Double {
        if count < 3 || infinities > 0 { return .nan }
        if sameRun >= count { return 0 }
        let (b, c, _) = central()
        if b <= 1e-14 { return .nan }
        let n = Double(count), r = b.squareRoot()
        return ((n * (n - 1)).squareRoot() * c) / ((n - 2) * r * r * r)
    }

    func kurtosis() -> Double {
        if count < 4 || infinities > 0 { return .nan }
        if sameRun >= count { return -3 }
        let (b, _, d) = central()
        if b <= 1e-14 { return .nan }
        let n = Double(count)
        let k = (n * n - 1) * d / (b * b) - 3 * (n - 1) * (n - 1)
        return k / ((n - 2) * (n - 3))
    }
}

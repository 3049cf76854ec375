/// Rolling correlation and covariance of two aligned series, O(n).
///
/// Pairs count where both values are non-NaN (pandas aligns and masks both sides). Fewer than two pairs give NaN.
public enum RollingPair {
    public enum Statistic: Sendable {
        /// Pearson correlation; NaN where the rolling sample std of x or of y (each over its own valid values)
        /// is ≤ 2e-5 (Qlib's rule for flat windows).
        case correlation
        /// Sample covariance (ddof 1).
        case covariance
    }

    public static func compute(_ statistic: Statistic, _ x: UnsafeBufferPointer<Double>,
                               _ y: UnsafeBufferPointer<Double>, window: Int,
                               into out: UnsafeMutableBufferPointer<Double>) {
        let n = min(x.count, y.count)
        guard n > 0 else { return }
        let w = max(1, window)
        var pair = PairAccumulator()
        // Valid values of each series alone in the window: when both equal the pair count, the series' own
        // variances are the paired ones and the flat-window test needs no extra sums.
        var xValid = 0, yValid = 0
        let checksFlat = statistic == .correlation
        var blockStart = 0
        while blockStart < n {
            let blockEnd = w == Int.max ? n : min(n, blockStart + w)
            let lo = w == Int.max ? 0 : max(0, blockStart - w + 1)
            pair.rebuild(x, y, lo...blockStart)
            xValid = 0; yValid = 0
            for i in lo...blockStart {
                if !x[i].isNaN { xValid += 1 }
                if !y[i].isNaN { yValid += 1 }
            }
            var t = blockStart
            while t < blockEnd {
                if t > blockStart {
                    pair.add(x[t], y[t])
                    if !x[t].isNaN { xValid += 1 }
                    if !y[t].isNaN { yValid += 1 }
                    if t >= w {
                        pair.remove(x[t - w], y[t - w])
                        if !x[t - w].isNaN { xValid -= 1 }
                        if !y[t - w].isNaN { yValid -= 1 }
                    }
                }
                if checksFlat {
                    let start = w == Int.max ? 0 : max(0, t - w + 1)
                    let vx = xValid == pair.count ? pair.varianceX() : Self.variance(x, start...t)
                    let vy = yValid == pair.count ? pair.varianceY() : Self.variance(y, start...t)
                    // Qlib's np.isclose(std, 0, atol=2e-5); a NaN std never matches. The sqrt is taken only near 0.
                    let flat = (vx < 1e-9 && vx.squareRoot() <= 2e-5) || (vy < 1e-9 && vy.squareRoot() <= 2e-5)
                    out[t] = flat ? .nan : pair.correlation()
                } else {
                    out[t] = pair.covariance()
                }
                t += 1
            }
            blockStart = blockEnd
        }
    }

    /// Sample variance of the non-NaN values of `x[range]` (two-pass); NaN under two values or with an infinity.
    static func variance(_ x: UnsafeBufferPointer<Double>, _ range: ClosedRange<Int>) -> Double {
        var count = 0, sum = 0.0
        for i in range where !x[i].isNaN {
            if x[i].isInfinite { return .nan }
            count += 1; sum += x[i]
        }
        if count < 2 { return .nan }
        let mean = sum / Double(count)
        var ss = 0.0
        for i in range where !x[i].isNaN { ss += (x[i] - mean) * (x[i] - mean) }
        return ss / Double(count - 1)
    }
}

struct PairAccumulator {
    var ax = 0.0, ay = 0.0
    var count = 0
    var nonFinite = 0
    var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0

    mutating func rebuild(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>,
                          _ range: ClosedRange<Int>) {
        self = PairAccumulator()
        for i in range where x[i].isFinite && y[i].isFinite { ax = x[i]; ay = y[i]; break }
        for i in range { add(x[i], y[i]) }
    }

    @inline(__always)
    mutating func add(_ u: Double, _ v: Double) {
        if u.isFinite && v.isFinite {
            count += 1
            let dx = u - ax, dy = v - ay
            sx += dx; sy += dy; sxx += dx * dx; syy += dy * dy; sxy += dx * dy
            return
        }
        if u.isNaN || v.isNaN { return }
        count += 1
        if !u.isFinite || !v.isFinite { nonFinite += 1; return }
        let dx = u - ax, dy = v - ay
        sx += dx; sy += dy; sxx += dx * dx; syy += dy * dy; sxy += dx * dy
    }

    @inline(__always)
    mutating func remove(_ u: Double, _ v: Double) {
        if u.isFinite && v.isFinite {
            count -= 1
            let dx = u - ax, dy = v - ay
            sx -= dx; sy -= dy; sxx -= dx * dx; syy -= dy * dy; sxy -= dx * dy
            return
        }
        if u.isNaN || v.isNaN { return }
        count -= 1
        if !u.isFinite || !v.isFinite { nonFinite -= 1; return }
        let dx = u - ax, dy = v - ay
        sx -= dx; sy -= dy; sxx -= dx * dx; syy -= dy * dy; sxy -= dx * dy
    }

    /// Sample variance of the paired x values; NaN under two pairs or with an infinity.
    @inline(__always)
    func varianceX() -> Double {
        if count < 2 || nonFinite > 0 { return .nan }
        let nn = Double(count)
        return max(0, (sxx - sx * sx / nn) / (nn - 1))
    }

    @inline(__always)
    func varianceY() -> Double {
        if count < 2 || nonFinite > 0 { return .nan }
        let nn = Double(count)
        return max(0, (syy - sy * sy / nn) / (nn - 1))
    }

    @inline(__always)
    func covariance() -> Double {
        if count < 2 || nonFinite > 0 { return .nan }
        let nn = Double(count)
        return (sxy - sx * sy / nn) / (nn - 1)
    }

    @inline(__always)
    func correlation() -> Double {
        if count < 2 || nonFinite > 0 { return .nan }
        let nn = Double(count)
        let vx = sxx - sx * sx / nn, vy = syy - sy * sy / nn
        guard vx > 0, vy > 0 else { return .nan }
        return (sxy - sx * sy / nn) / (vx * vy).squareRoot()
    }
}

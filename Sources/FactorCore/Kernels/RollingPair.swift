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
        // The flat-window test needs no exact-zero tracking: a constant window's variance is at rounding level,
        // far below the 4e-10 (std 2e-5) threshold.
        var left = MomentAccumulator()
        var right = MomentAccumulator()
        left.tracksRuns = false
        right.tracksRuns = false
        let checksFlat = statistic == .correlation
        var blockStart = 0
        while blockStart < n {
            let blockEnd = w == Int.max ? n : min(n, blockStart + w)
            let lo = w == Int.max ? 0 : max(0, blockStart - w + 1)
            pair.rebuild(x, y, lo...blockStart)
            if checksFlat { left.rebuild(x, lo...blockStart); right.rebuild(y, lo...blockStart) }
            var t = blockStart
            while t < blockEnd {
                if t > blockStart {
                    pair.add(x[t], y[t])
                    if checksFlat { left.add(x[t]); right.add(y[t]) }
                    if t >= w {
                        pair.remove(x[t - w], y[t - w])
                        if checksFlat { left.remove(x[t - w]); right.remove(y[t - w]) }
                    }
                }
                if checksFlat {
                    // Qlib's np.isclose(std, 0, atol=2e-5); a NaN std never matches. The sqrt is taken only near 0.
                    let vx = left.variance(), vy = right.variance()
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

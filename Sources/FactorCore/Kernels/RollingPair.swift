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
        var left = MomentAccumulator()
        var right = MomentAccumulator()
        var rebuildDue = 0
        for t in 0..<n {
            let lo = w == Int.max ? 0 : max(0, t - w + 1)
            if t >= rebuildDue {
                pair.rebuild(x, y, lo...t)
                if statistic == .correlation {
                    left.rebuild(x, lo...t)
                    right.rebuild(y, lo...t)
                }
                rebuildDue = w == Int.max ? Int.max : t + w
            } else {
                pair.add(x[t], y[t])
                if statistic == .correlation { left.add(x[t]); right.add(y[t]) }
                if w != Int.max && t - w >= 0 {
                    pair.remove(x[t - w], y[t - w])
                    if statistic == .correlation { left.remove(x[t - w]); right.remove(y[t - w]) }
                }
            }
            switch statistic {
            case .covariance:
                out[t] = pair.covariance()
            case .correlation:
                let sx = left.value(.std), sy = right.value(.std)
                if sx <= 2e-5 || sy <= 2e-5 { out[t] = .nan } else { out[t] = pair.correlation() }
            }
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
        if u.isNaN || v.isNaN { return }
        count += 1
        if !u.isFinite || !v.isFinite { nonFinite += 1; return }
        let dx = u - ax, dy = v - ay
        sx += dx; sy += dy; sxx += dx * dx; syy += dy * dy; sxy += dx * dy
    }

    @inline(__always)
    mutating func remove(_ u: Double, _ v: Double) {
        if u.isNaN || v.isNaN { return }
        count -= 1
        if !u.isFinite || !v.isFinite { nonFinite -= 1; return }
        let dx = u - ax, dy = v - ay
        sx -= dx; sy -= dy; sxx -= dx * dx; syy -= dy * dy; sxy -= dx * dy
    }

    func covariance() -> Double {
        if count < 2 || nonFinite > 0 { return .nan }
        let nn = Double(count)
        return (sxy - sx * sy / nn) / (nn - 1)
    }

    func correlation() -> Double {
        if count < 2 || nonFinite > 0 { return .nan }
        let nn = Double(count)
        let vx = sxx - sx * sx / nn, vy = syy - sy * sy / nn
        guard vx > 0, vy > 0 else { return .nan }
        return (sxy - sx * sy / nn) / (vx * vy).squareRoot()
    }
}

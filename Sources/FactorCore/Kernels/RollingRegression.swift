/// Rolling least-squares regression of a series on its row positions (Qlib's Slope, Rsquare, Resi), O(n).
///
/// In a window ending at row t the rows keep their positions (today is the newest); NaN rows are skipped but
/// keep their places. Fewer than two valid values give NaN.
public enum RollingRegression {
    public enum Statistic: Sendable {
        /// OLS slope per row.
        case slope
        /// R² of the fit; NaN where the window's sample std of the values is ≤ 2e-5 (Qlib's flat-window rule).
        case rsquare
        /// Today's residual from the fit; NaN when today is NaN.
        case residual
    }

    public static func compute(_ statistic: Statistic, _ y: UnsafeBufferPointer<Double>, window: Int,
                               into out: UnsafeMutableBufferPointer<Double>) {
        guard let base = out.baseAddress else { return }
        compute([statistic], y, window: window, into: [base])
    }

    /// Computes each of `statistics` (of one series and window) into the matching output, sharing the sums.
    public static func compute(_ statistics: [Statistic], _ y: UnsafeBufferPointer<Double>, window: Int,
                               into outs: [UnsafeMutablePointer<Double>]) {
        let n = y.count
        guard n > 0 else { return }
        let w = max(1, window)
        var acc = RegressionAccumulator()
        var blockStart = 0
        while blockStart < n {
            let blockEnd = w == Int.max ? n : min(n, blockStart + w)
            acc.rebuild(y, (w == Int.max ? 0 : max(0, blockStart - w + 1))...blockStart)
            var t = blockStart
            while t < blockEnd {
                if t > blockStart {
                    acc.add(t, y[t])
                    if t >= w { acc.remove(t - w, y[t - w]) }
                }
                acc.emit(statistics, t, y[t], outs)
                t += 1
            }
            blockStart = blockEnd
        }
    }
}

struct RegressionAccumulator {
    var base = 0
    var anchor = 0.0
    var count = 0
    var sp = 0.0, spp = 0.0, sy = 0.0, syy = 0.0, spy = 0.0
    var nonFinite = 0
    var sameRun = 0
    var lastValue = Double.nan

    mutating func rebuild(_ y: UnsafeBufferPointer<Double>, _ range: ClosedRange<Int>) {
        self = RegressionAccumulator()
        base = range.lowerBound
        for i in range where y[i].isFinite { anchor = y[i]; break }
        for i in range { add(i, y[i]) }
    }

    @inline(__always)
    mutating func add(_ row: Int, _ v: Double) {
        if v.isNaN { return }
        count += 1
        if v == lastValue { sameRun += 1 } else { sameRun = 1; lastValue = v }
        if v.isInfinite { nonFinite += 1; return }
        let p = Double(row - base), d = v - anchor
        sp += p; spp += p * p; sy += d; syy += d * d; spy += p * d
    }

    @inline(__always)
    mutating func remove(_ row: Int, _ v: Double) {
        if v.isNaN { return }
        count -= 1
        if sameRun > count { sameRun = count }
        if v.isInfinite { nonFinite -= 1; return }
        let p = Double(row - base), d = v - anchor
        sp -= p; spp -= p * p; sy -= d; syy -= d * d; spy -= p * d
    }

    /// Writes every statistic of row `today` from one computation of the fit.
    @inline(__always)
    func emit(_ statistics: [RollingRegression.Statistic], _ today: Int, _ todayValue: Double,
              _ outs: [UnsafeMutablePointer<Double>]) {
        if count < 2 || nonFinite > 0 {
            for k in 0..<outs.count { outs[k][today] = .nan }
            return
        }
        let nn = Double(count)
        let sxx = spp - sp * sp / nn
        let sxy = spy - sp * sy / nn
        let slope = sxx > 0 ? sxy / sxx : .nan
        for k in 0..<statistics.count {
            let v: Double
            switch statistics[k] {
            case .slope:
                v = slope
            case .rsquare:
                let constant = sameRun >= count
                var syyc = constant ? 0 : syy - sy * sy / nn
                if syyc < 0 { syyc = 0 }
                v = sxx > 0 && (syyc / (nn - 1)).squareRoot() > 2e-5 && syyc > 0 ? (sxy * sxy) / (sxx * syyc) : .nan
            case .residual:
                v = todayValue.isNaN || !(sxx > 0) ? .nan : (todayValue - anchor) - (sy / nn + slope * (Double(today - base) - sp / nn))
            }
            outs[k][today] = v
        }
    }

    @inline(__always)
    func value(_ statistic: RollingRegression.Statistic, today: Int, todayValue: Double) -> Double {
        if count < 2 || nonFinite > 0 { return .nan }
        let nn = Double(count)
        let sxx = spp - sp * sp / nn
        let sxy = spy - sp * sy / nn
        guard sxx > 0 else { return .nan }
        let slope = sxy / sxx
        switch statistic {
        case .slope:
            return slope
        case .rsquare:
            let constant = sameRun >= count
            var syyc = constant ? 0 : syy - sy * sy / nn
            if syyc < 0 { syyc = 0 }
            let std = (syyc / (nn - 1)).squareRoot()
            if std <= 2e-5 || syyc <= 0 { return .nan }
            return (sxy * sxy) / (sxx * syyc)
        case .residual:
            if todayValue.isNaN { return .nan }
            let p = Double(today - base)
            let fitted = sy / nn + slope * (p - sp / nn)
            return (todayValue - anchor) - fitted
        }
    }
}

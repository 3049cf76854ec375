/// Rolling sum, mean, count, variance and standard deviation over one series, O(n).
///
/// Every kernel reads `x[0..<n]` (one instrument's span) and writes `out[0..<n]`. A window of `window` rows ending at
/// row t covers rows max(0, t−window+1)…t; `window == Int.max` is an expanding window. NaN rows are skipped
/// (Qlib's `min_periods=1`): a window without a value gives NaN (Count gives 0).
///
/// Running sums are taken around an anchor value and rebuilt exactly at the start of every block of `window`
/// rows, which bounds rounding drift and cancellation without giving up O(n).
public enum RollingMoments {
    /// What a moment window can report.
    public enum Statistic: Sendable { case sum, mean, count, variance, std }

    public static func compute(_ statistic: Statistic, _ x: UnsafeBufferPointer<Double>, window: Int,
                               into out: UnsafeMutableBufferPointer<Double>) {
        switch statistic {
        case .sum: run(x, window, tracksRuns: false) { out[$0] = $1.sum() }
        case .mean: run(x, window, tracksRuns: false) { out[$0] = $1.mean() }
        case .count: run(x, window, tracksRuns: false) { out[$0] = Double($1.count) }
        case .variance: run(x, window, tracksRuns: true) { out[$0] = $1.variance() }
        case .std: run(x, window, tracksRuns: true) { out[$0] = $1.variance().squareRoot() }
        }
    }

    /// Computes each of `statistics` (of one series and window) into the matching output, sharing the sums.
    public static func compute(_ statistics: [Statistic], _ x: UnsafeBufferPointer<Double>, window: Int,
                               into outs: [UnsafeMutablePointer<Double>]) {
        let tracksRuns = statistics.contains { $0 == .variance || $0 == .std }
        if statistics.count == 2 {
            // The common pairing (a mean and a std of one series) without per-row array traffic.
            let (s0, s1, o0, o1) = (statistics[0], statistics[1], outs[0], outs[1])
            run(x, window, tracksRuns: tracksRuns) { t, acc in
                o0[t] = acc.value(s0)
                o1[t] = acc.value(s1)
            }
            return
        }
        statistics.withUnsafeBufferPointer { stats in
            outs.withUnsafeBufferPointer { outs in
                run(x, window, tracksRuns: tracksRuns) { t, acc in
                    for k in 0..<stats.count { outs[k][t] = acc.value(stats[k]) }
                }
            }
        }
    }

    /// Slides the window over `x`, rebuilding the sums at the start of every block of `window` rows, and hands
    /// each row's accumulator to `emit`.
    @inline(__always)
    static func run(_ x: UnsafeBufferPointer<Double>, _ window: Int, tracksRuns: Bool,
                    _ emit: (Int, MomentAccumulator) -> Void) {
        let n = x.count
        guard n > 0 else { return }
        let w = max(1, window)
        var acc = MomentAccumulator()
        acc.tracksRuns = tracksRuns
        var blockStart = 0
        while blockStart < n {
            let blockEnd = w == Int.max ? n : min(n, blockStart + w)
            acc.rebuild(x, (w == Int.max ? 0 : max(0, blockStart - w + 1))...blockStart)
            emit(blockStart, acc)
            var t = blockStart + 1
            while t < blockEnd {
                acc.add(x[t])
                if t >= w { acc.remove(x[t - w]) }
                emit(t, acc)
                t += 1
            }
            blockStart = blockEnd
        }
    }
}

/// Sums of (v − anchor) and its square over the valid values of a window, plus counts of infinities and a
/// run of identical values (pandas reports exactly 0 variance for a constant window).
struct MomentAccumulator {
    var anchor = 0.0
    var count = 0
    var s1 = 0.0
    var s2 = 0.0
    var infinities = 0
    var posInf = 0
    var tracksRuns = true
    var sameRun = 0  // consecutive identical valid values ending at the newest one
    var lastValue = Double.nan

    mutating func rebuild(_ x: UnsafeBufferPointer<Double>, _ range: ClosedRange<Int>) {
        let runs = tracksRuns
        self = MomentAccumulator()
        tracksRuns = runs
        for i in range where x[i].isFinite { anchor = x[i]; break }
        for i in range { add(x[i]) }
    }

    @inline(__always)
    mutating func add(_ v: Double) {
        if v.isFinite {
            count += 1
            let d = v - anchor
            s1 += d
            s2 += d * d
        } else if v.isNaN {
            return
        } else {
            count += 1
            infinities += 1
            if v > 0 { posInf += 1 }
        }
        if tracksRuns {
            if v == lastValue { sameRun += 1 } else { sameRun = 1; lastValue = v }
        }
    }

    @inline(__always)
    mutating func remove(_ v: Double) {
        if v.isFinite {
            count -= 1
            let d = v - anchor
            s1 -= d
            s2 -= d * d
        } else if v.isNaN {
            return
        } else {
            count -= 1
            infinities -= 1
            if v > 0 { posInf -= 1 }
        }
        if tracksRuns && sameRun > count { sameRun = count }
    }

    @inline(__always)
    func sum() -> Double {
        if count == 0 { return .nan }
        if infinities > 0 {
            let negInf = infinities - posInf
            return posInf > 0 && negInf > 0 ? .nan : (posInf > 0 ? .infinity : -.infinity)
        }
        return s1 + Double(count) * anchor
    }

    @inline(__always)
    func mean() -> Double {
        if count == 0 { return .nan }
        if infinities > 0 { return sum() }
        return s1 / Double(count) + anchor
    }

    /// Sample variance (ddof 1); NaN under two values or with an infinity; 0 for a constant window.
    @inline(__always)
    func variance() -> Double {
        if count < 2 || infinities > 0 { return .nan }
        if sameRun >= count { return 0 }
        let nn = Double(count)
        let v = (s2 - s1 * s1 / nn) / (nn - 1)
        return v < 0 ? 0 : v
    }

    @inline(__always)
    func value(_ statistic: RollingMoments.Statistic) -> Double {
        switch statistic {
        case .count: return Double(count)
        case .sum: return sum()
        case .mean: return mean()
        case .variance: return variance()
        case .std: return variance().squareRoot()
        }
    }
}

/// Rolling median, quantile and time-series rank over one series, kept in a sorted window
/// (binary search + move: O(log N + N) per row with a tiny constant for the windows factors use).
public enum RollingOrderStatistics {
    /// What to read off the sorted window.
    public enum Statistic: Sendable {
        /// pandas `rolling.median()`: middle value, or the mean of the two middle values.
        case median
        /// pandas `rolling.quantile(q)` with linear interpolation.
        case quantile(Double)
        /// pandas `rolling.rank(pct=True)`: average rank of today's value among the window's values ÷ count;
        /// NaN when today is NaN.
        case rank
    }

    public static func compute(_ statistic: Statistic, _ x: UnsafeBufferPointer<Double>, window: Int,
                               into out: UnsafeMutableBufferPointer<Double>) {
        let n = x.count
        guard n > 0 else { return }
        var sorted = SortedWindow(capacity: min(n, window == Int.max ? n : window))
        for t in 0..<n {
            if window != Int.max && t >= window {
                let old = x[t - window]
                if !old.isNaN { sorted.remove(old) }
            }
            let v = x[t]
            if !v.isNaN { sorted.insert(v) }
            out[t] = sorted.read(statistic, today: v)
        }
    }
}

/// The valid values of a window in ascending order.
struct SortedWindow {
    var values: [Double]

    init(capacity: Int) {
        values = []
        values.reserveCapacity(capacity)
    }

    /// First index whose value is ≥ v.
    @inline(__always)
    func lowerBound(_ v: Double) -> Int {
        var lo = 0, hi = values.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if values[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// First index whose value is > v.
    @inline(__always)
    func upperBound(_ v: Double) -> Int {
        var lo = 0, hi = values.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if values[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    mutating func insert(_ v: Double) { values.insert(v, at: upperBound(v)) }

    mutating func remove(_ v: Double) {
        let i = lowerBound(v)
        if i < values.count && values[i] == v { values.remove(at: i) }
    }

    func read(_ statistic: RollingOrderStatistics.Statistic, today: Double) -> Double {
        let c = values.count
        if c == 0 { return .nan }
        switch statistic {
        case .median:
            return c % 2 == 1 ? values[c / 2] : (values[c / 2 - 1] + values[c / 2]) / 2
        case .quantile(let q):
            let position = q * Double(c - 1)
            let i = Int(position)
            if Double(i) == position || i + 1 >= c { return values[min(i, c - 1)] }
            let low = values[i], high = values[i + 1]
            return low + (high - low) * (position - Double(i))
        case .rank:
            if today.isNaN { return .nan }
            let lo = lowerBound(today), hi = upperBound(today)
            return (Double(lo + 1 + hi) / 2) / Double(c)
        }
    }
}

/// Rolling median, quantile and time-series rank over one series. Several statistics of the same series and window are
/// read off one window state.
///
/// Windows of up to `sortedWindowLimit` rows are kept sorted in a small array (a counting search and one shift of at
/// most that many values per row: faster than any tree at the windows factors use); longer and expanding windows use
/// a Fenwick tree over the series' value ranks (`RankedWindow`): O(log n) per row.
public enum RollingOrderStatistics {
    /// The longest window kept as a sorted array.
    public static let sortedWindowLimit = 64

    /// What to read off the sorted window.
    public enum Statistic: Sendable, Equatable {
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
        compute([statistic], x, window: window, into: [out])
    }

    /// Computes each of `statistics` into the matching output buffer in one pass.
    public static func compute(_ statistics: [Statistic], _ x: UnsafeBufferPointer<Double>, window: Int,
                               into outs: [UnsafeMutableBufferPointer<Double>]) {
        let n = x.count
        guard n > 0 else { return }
        if window > sortedWindowLimit {
            ranked(statistics, x, window: window, into: outs)
            return
        }
        let capacity = min(n, window == Int.max ? n : window)
        let storage = UnsafeMutablePointer<Double>.allocate(capacity: capacity)
        defer { storage.deallocate() }
        var sorted = SortedWindow(base: storage)
        // Flattened reads: kind 0 median, 1 quantile (with q), 2 rank.
        let kinds = statistics.map { s -> (Int, Double) in
            switch s {
            case .median: return (0, 0)
            case .quantile(let q): return (1, q)
            case .rank: return (2, 0)
            }
        }
        let targets = outs.map { $0.baseAddress! }
        kinds.withUnsafeBufferPointer { kinds in
            targets.withUnsafeBufferPointer { targets in
                for t in 0..<n {
                    let v = x[t]
                    var inserted = -1
                    if window != Int.max && t >= window {
                        let old = x[t - window]
                        if !old.isNaN && !v.isNaN {
                            inserted = sorted.replace(old, with: v)
                        } else if !old.isNaN {
                            sorted.remove(old)
                        }
                    }
                    var rank = Double.nan
                    if !v.isNaN {
                        // Average rank of today's value from where it was inserted: ties sit just before it.
                        let i = inserted >= 0 ? inserted : sorted.insert(v)
                        var low = i
                        while low > 0 && storage[low - 1] == v { low -= 1 }
                        rank = (Double(low + 1 + i + 1) / 2) / Double(sorted.count)
                    }
                    for k in 0..<kinds.count {
                        let (kind, q) = kinds[k]
                        targets[k][t] = kind == 2 ? rank : (kind == 0 ? sorted.median() : sorted.quantile(q))
                    }
                }
            }
        }
    }
}

extension RollingOrderStatistics {
    /// Long and expanding windows: O(log n) per row on a Fenwick tree of the window's value ranks.
    static func ranked(_ statistics: [Statistic], _ x: UnsafeBufferPointer<Double>, window: Int,
                       into outs: [UnsafeMutableBufferPointer<Double>]) {
        var state = RankedWindow(x)
        defer { state.deallocate() }
        for t in 0..<x.count {
            state.insert(row: t)
            if window != Int.max && t >= window { state.remove(row: t - window) }
            for (k, statistic) in statistics.enumerated() {
                switch statistic {
                case .median: outs[k][t] = state.median()
                case .quantile(let q): outs[k][t] = state.quantile(q)
                case .rank: outs[k][t] = state.rank(row: t)
                }
            }
        }
    }
}

/// The valid values of a window in ascending order, in caller-owned storage.
struct SortedWindow {
    let base: UnsafeMutablePointer<Double>
    var count = 0

    init(base: UnsafeMutablePointer<Double>) { self.base = base }

    /// First index whose value is ≥ v. Small windows count instead of searching: the comparisons of a binary
    /// search are unpredictable, a counting loop is branch-free and vectorises.
    @inline(__always)
    func lowerBound(_ v: Double) -> Int {
        if count <= 96 {
            var n = 0, j = 0
            while j < count { n &+= Int(unsafeBitCast(base[j] < v, to: UInt8.self)); j &+= 1 }
            return n
        }
        var first = 0, length = count
        while length > 1 {
            let half = length >> 1
            first = base[first + half - 1] < v ? first + half : first
            length -= half
        }
        return base[first] < v ? first + 1 : first
    }

    /// First index whose value is > v.
    @inline(__always)
    func upperBound(_ v: Double) -> Int {
        if count <= 96 {
            var n = 0, j = 0
            while j < count { n &+= Int(unsafeBitCast(base[j] <= v, to: UInt8.self)); j &+= 1 }
            return n
        }
        var first = 0, length = count
        while length > 1 {
            let half = length >> 1
            first = base[first + half - 1] <= v ? first + half : first
            length -= half
        }
        return base[first] <= v ? first + 1 : first
    }

    /// Inserts v after any equal values; returns its index.
    @inline(__always)
    mutating func insert(_ v: Double) -> Int {
        let i = upperBound(v)
        var j = count
        while j > i { base[j] = base[j - 1]; j -= 1 }
        base[i] = v
        count += 1
        return i
    }

    /// Replaces `old` by `v` with one shift of the values between them; returns v's index (after its equals).
    @inline(__always)
    mutating func replace(_ old: Double, with v: Double) -> Int {
        var r: Int, u: Int
        if count <= 96 {
            // Both positions in one branch-free counting pass.
            r = 0; u = 0
            var j = 0
            while j < count {
                let value = base[j]
                r &+= Int(unsafeBitCast(value < old, to: UInt8.self))
                u &+= Int(unsafeBitCast(value <= v, to: UInt8.self))
                j &+= 1
            }
        } else {
            r = lowerBound(old)
            u = upperBound(v)
        }
        guard r < count && base[r] == old else { return insert(v) }
        if u > r {
            var j = r
            while j < u - 1 { base[j] = base[j + 1]; j += 1 }
            base[u - 1] = v
            return u - 1
        }
        var j = r
        while j > u { base[j] = base[j - 1]; j -= 1 }
        base[u] = v
        return u
    }

    @inline(__always)
    mutating func remove(_ v: Double) {
        let i = lowerBound(v)
        guard i < count && base[i] == v else { return }
        var j = i
        while j < count - 1 { base[j] = base[j + 1]; j += 1 }
        count -= 1
    }

    /// pandas `rolling.median()`.
    @inline(__always)
    func median() -> Double {
        let c = count
        if c == 0 { return .nan }
        return c % 2 == 1 ? base[c / 2] : (base[c / 2 - 1] + base[c / 2]) / 2
    }

    /// pandas `rolling.quantile(q)`, linear interpolation.
    @inline(__always)
    func quantile(_ q: Double) -> Double {
        let c = count
        if c == 0 { return .nan }
        let position = q * Double(c - 1)
        let i = Int(position)
        if Double(i) == position || i + 1 >= c { return base[min(i, c - 1)] }
        let low = base[i], high = base[i + 1]
        return low + (high - low) * (position - Double(i))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rolling median, quantile and time-series rank over one series, kept in a sorted window
/// (binary search + memmove: O(log N + N) per row with a tiny constant for the windows factors use).
/// Several statistics of the same series and window are read off one sorted window.
public enum RollingOrderStatistics {
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
        let capacity = min(n, window == Int.max ? n : window)
        let storage = UnsafeMutablePointer<Double>.allocate(capacity: capacity)
        defer { storage.deallocate() }
        var sorted = SortedWindow(base: storage)
        for t in 0..<n {
            if window != Int.max && t >= window {
                let old = x[t - window]
                if !old.isNaN { sorted.remove(old) }
            }
            let v = x[t]
            if !v.isNaN { sorted.insert(v) }
            for (k, statistic) in statistics.enumerated() { outs[k][t] = sorted.read(statistic, today: v) }
        }
    }
}

/// The valid values of a window in ascending order, in caller-owned storage.
struct SortedWindow {
    let base: UnsafeMutablePointer<Double>
    var count = 0

    init(base: UnsafeMutablePointer<Double>) { self.base = base }

    /// First index whose value is ≥ v.
    @inline(__always)
    func lowerBound(_ v: Double) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if base[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// First index whose value is > v.
    @inline(__always)
    func upperBound(_ v: Double) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if base[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    @inline(__always)
    mutating func insert(_ v: Double) {
        let i = upperBound(v)
        if i < count { memmove(base + i + 1, base + i, (count - i) * MemoryLayout<Double>.stride) }
        base[i] = v
        count += 1
    }

    @inline(__always)
    mutating func remove(_ v: Double) {
        let i = lowerBound(v)
        guard i < count && base[i] == v else { return }
        if i < count - 1 { memmove(base + i, base + i + 1, (count - i - 1) * MemoryLayout<Double>.stride) }
        count -= 1
    }

    @inline(__always)
    func read(_ statistic: RollingOrderStatistics.Statistic, today: Double) -> Double {
        let c = count
        if c == 0 { return .nan }
        switch statistic {
        case .median:
            return c % 2 == 1 ? base[c / 2] : (base[c / 2 - 1] + base[c / 2]) / 2
        case .quantile(let q):
            let position = q * Double(c - 1)
            let i = Int(position)
            if Double(i) == position || i + 1 >= c { return base[min(i, c - 1)] }
            let low = base[i], high = base[i + 1]
            return low + (high - low) * (position - Double(i))
        case .rank:
            if today.isNaN { return .nan }
            let lo = lowerBound(today), hi = upperBound(today)
            return (Double(lo + 1 + hi) / 2) / Double(c)
        }
    }
}

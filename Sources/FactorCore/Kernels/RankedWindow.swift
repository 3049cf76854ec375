/// The valid values of one series ranked once (equal values in row order), and a Fenwick tree of which of them are
/// in the current window: inserting, removing, the k-th smallest and "how many are below this value" each take
/// O(log n) steps, whatever the window's length — the order statistics of long and expanding windows.
///
/// With `sums`, a second tree holds the window's values (less the series' first value, which keeps the sums small
/// for price-like series): the sum of the window's values below a rank, for the mean absolute deviation.
struct RankedWindow {
    /// Valid values in ascending order.
    private let sorted: UnsafeMutablePointer<Double>
    /// Per row: the rank of its value among the valid ones, −1 for NaN.
    private let rankOf: UnsafeMutablePointer<Int32>
    /// Per rank: the first rank holding the same value, and one past the last.
    private let tieStart: UnsafeMutablePointer<Int32>
    private let tieEnd: UnsafeMutablePointer<Int32>
    /// Fenwick trees over ranks (1-based): counts, and values less `anchor` when summing.
    private let counts: UnsafeMutablePointer<Int32>
    private let sums: UnsafeMutablePointer<Double>?
    private let valid: Int
    private let topStep: Int
    /// The series' first valid value.
    let anchor: Double
    /// Values in the window, and their sum less `anchor` each.
    private(set) var count = 0
    private(set) var total = 0.0

    init(_ x: UnsafeBufferPointer<Double>, sums wantSums: Bool = false) {
        let n = x.count
        let order = ValueOrder(capacity: max(16, n))
        for t in 0..<n where !x[t].isNaN { order.append(x[t], Int32(t)) }
        order.sort()
        valid = order.count
        sorted = .allocate(capacity: max(1, valid))
        rankOf = .allocate(capacity: max(1, n))
        rankOf.initialize(repeating: -1, count: n)
        tieStart = .allocate(capacity: max(1, valid))
        tieEnd = .allocate(capacity: max(1, valid))
        counts = .allocate(capacity: valid + 1)
        counts.initialize(repeating: 0, count: valid + 1)
        sums = wantSums ? .allocate(capacity: valid + 1) : nil
        sums?.initialize(repeating: 0, count: valid + 1)
        let rows = order.sortedTags
        for r in 0..<valid {
            sorted[r] = x[Int(rows[r])]
            rankOf[Int(rows[r])] = Int32(r)
            tieStart[r] = r > 0 && sorted[r] == sorted[r - 1] ? tieStart[r - 1] : Int32(r)
        }
        var r = valid - 1
        while r >= 0 {
            tieEnd[r] = r + 1 < valid && sorted[r + 1] == sorted[r] ? tieEnd[r + 1] : Int32(r + 1)
            r -= 1
        }
        var step = 1
        while step * 2 <= valid { step *= 2 }
        topStep = valid == 0 ? 0 : step
        anchor = x.first { !$0.isNaN } ?? 0
    }

    func deallocate() {
        sorted.deallocate(); rankOf.deallocate(); tieStart.deallocate(); tieEnd.deallocate(); counts.deallocate()
        sums?.deallocate()
    }

    /// Row t's value enters the window (NaN rows are ignored).
    mutating func insert(row t: Int) { update(row: t, by: 1) }

    /// Row t's value leaves the window.
    mutating func remove(row t: Int) { update(row: t, by: -1) }

    @inline(__always)
    private mutating func update(row t: Int, by delta: Int32) {
        let r = Int(rankOf[t])
        guard r >= 0 else { return }
        count += Int(delta)
        let shifted = (sorted[r] - anchor) * Double(delta)
        total += shifted
        var i = r + 1
        while i <= valid {
            counts[i] &+= delta
            if let sums { sums[i] += shifted }
            i += i & -i
        }
    }

    /// The k-th smallest value of the window (0-based; k < count).
    @inline(__always)
    func value(at k: Int) -> Double {
        var position = 0, remaining = Int32(k + 1), step = topStep
        while step > 0 {
            let next = position + step
            if next <= valid && counts[next] < remaining {
                position = next
                remaining -= counts[next]
            }
            step >>= 1
        }
        return sorted[position]
    }

    /// Window values with a rank below `rank`, and (when summing) their sum less `anchor` each.
    @inline(__always)
    private func below(_ rank: Int) -> (count: Int, sum: Double) {
        var i = rank, c: Int32 = 0, s = 0.0
        while i > 0 {
            c &+= counts[i]
            if let sums { s += sums[i] }
            i -= i & -i
        }
        return (Int(c), s)
    }

    /// pandas `rolling.median()`.
    func median() -> Double {
        if count == 0 { return .nan }
        return count % 2 == 1 ? value(at: count / 2) : (value(at: count / 2 - 1) + value(at: count / 2)) / 2
    }

    /// pandas `rolling.quantile(q)` with linear interpolation (the same arithmetic as the sorted window).
    func quantile(_ q: Double) -> Double {
        if count == 0 { return .nan }
        let position = q * Double(count - 1)
        let i = Int(position)
        if Double(i) == position || i + 1 >= count { return value(at: min(i, count - 1)) }
        let low = value(at: i), high = value(at: i + 1)
        return low + (high - low) * (position - Double(i))
    }

    /// Row t's value's average rank among the window's values ÷ their count (pandas `rank(pct=True)`); NaN when the
    /// row is NaN. Row t must be in the window.
    func rank(row t: Int) -> Double {
        let r = Int(rankOf[t])
        guard r >= 0 else { return .nan }
        let less = below(Int(tieStart[r])).count, equal = below(Int(tieEnd[r])).count - less
        return (Double(less) + Double(equal + 1) / 2) / Double(count)
    }

    /// Qlib's Mad: the mean of |x − mean| over the window, from the values on either side of the mean.
    func meanAbsoluteDeviation() -> Double {
        if count == 0 { return .nan }
        let n = Double(count)
        let mean = total / n  // less anchor, like every sum here
        // Ranks whose value is below the mean: a binary search of the sorted values.
        var lo = 0, hi = valid
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] - anchor < mean { lo = mid + 1 } else { hi = mid }
        }
        let (c, s) = below(lo)
        let deviation = (mean * Double(c) - s) + ((total - s) - mean * (n - Double(c)))
        return max(0, deviation) / n
    }
}

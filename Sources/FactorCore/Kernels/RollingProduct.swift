/// `Product(x, N)`: the product of the window's non-NaN values (NaN values are skipped, as the other rolling
/// statistics skip them under Qlib's `min_periods=1`); NaN when the window has no value. N = 0 is expanding.
public enum RollingProduct {
    /// Windows up to this many rows are multiplied out row by row, oldest first; longer ones use block products.
    static let scanLimit = 64

    public static func compute(_ x: UnsafeBufferPointer<Double>, window: Int, into out: UnsafeMutableBufferPointer<Double>) {
        let n = x.count
        guard n > 0 else { return }
        if window == Int.max {
            var product = 1.0, count = 0
            for t in 0..<n {
                if !x[t].isNaN { product *= x[t]; count += 1 }
                out[t] = count == 0 ? .nan : product
            }
            return
        }
        if window <= scanLimit {
            for t in 0..<n {
                var product = 1.0, count = 0
                for i in max(0, t - window + 1)...t where !x[i].isNaN { product *= x[i]; count += 1 }
                out[t] = count == 0 ? .nan : product
            }
            return
        }
        // Van Herk / Gil-Werman: blocks of `window` rows; a window is the suffix product of the block it starts in
        // times the prefix product of the block it ends in — two multiplications per row whatever N.
        var prefix = [Double](repeating: 1, count: n), suffix = [Double](repeating: 1, count: n)
        var counts = [Int](repeating: 0, count: n + 1)
        for t in 0..<n {
            let v = x[t].isNaN ? 1 : x[t]
            prefix[t] = t % window == 0 ? v : prefix[t - 1] * v
            counts[t + 1] = counts[t] + (x[t].isNaN ? 0 : 1)
        }
        for t in stride(from: n - 1, through: 0, by: -1) {
            let v = x[t].isNaN ? 1 : x[t]
            suffix[t] = (t + 1) % window == 0 || t == n - 1 ? v : v * suffix[t + 1]
        }
        for t in 0..<n {
            let lo = max(0, t - window + 1)
            if counts[t + 1] - counts[lo] == 0 { out[t] = .nan; continue }
            out[t] = lo % window == 0 ? prefix[t] : suffix[lo] * prefix[t]
        }
    }
}

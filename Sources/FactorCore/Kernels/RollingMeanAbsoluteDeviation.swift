/// Rolling mean absolute deviation around the window mean (Qlib's Mad: `nanmean(|x − nanmean(x)|)`).
///
/// The deviations are taken around a mean that moves with the window, so there is no running form of the sum
/// itself; but with the window's values ranked (`RankedWindow`), the sum splits at the mean into counts and sums of the
/// values below and above it: O(log n) per row. Windows of up to `scanLimit` rows are scanned instead, which at that
/// length costs less and adds the deviations exactly as Qlib does.
public enum RollingMeanAbsoluteDeviation {
    /// The longest window scanned row by row.
    public static let scanLimit = 64

    public static func compute(_ x: UnsafeBufferPointer<Double>, window: Int, into out: UnsafeMutableBufferPointer<Double>) {
        if window > scanLimit {
            var state = RankedWindow(x, sums: true)
            defer { state.deallocate() }
            for t in 0..<x.count {
                state.insert(row: t)
                if window != Int.max && t >= window { state.remove(row: t - window) }
                out[t] = state.meanAbsoluteDeviation()
            }
            return
        }
        for t in 0..<x.count {
            let lo = max(0, t - window + 1)
            var count = 0, sum = 0.0
            for i in lo...t where !x[i].isNaN { count += 1; sum += x[i] }
            if count == 0 { out[t] = .nan; continue }
            let mean = sum / Double(count)
            var deviation = 0.0
            for i in lo...t where !x[i].isNaN { deviation += abs(x[i] - mean) }
            out[t] = deviation / Double(count)
        }
    }
}

/// Rolling mean absolute deviation around the window mean (Qlib's Mad: `nanmean(|x − nanmean(x)|)`).
///
/// Each row scans its window (O(n·N)): the deviations are taken around a mean that moves with the window, so no
/// running form exists.
public enum RollingMeanAbsoluteDeviation {
    public static func compute(_ x: UnsafeBufferPointer<Double>, window: Int, into out: UnsafeMutableBufferPointer<Double>) {
        for t in 0..<x.count {
            let lo = window == Int.max ? 0 : max(0, t - window + 1)
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

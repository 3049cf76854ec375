/// Rolling weighted mean with weights 1…w by window position (newest heaviest) over the non-NaN values, O(n).
///
/// With i the row and lo the window's first row, the weight of row i is i − lo + 1, so Σ wᵢxᵢ and Σ wᵢ follow from
/// Σ i·xᵢ, Σ xᵢ, Σ i and the count, kept around an anchor value and a base row and rebuilt every block of
/// `window` rows. A window holding an infinity is computed directly.
public enum RollingWeightedMean {
    public static func compute(_ x: UnsafeBufferPointer<Double>, window: Int, into out: UnsafeMutableBufferPointer<Double>) {
        let n = x.count
        guard n > 0 else { return }
        let w = max(1, window)
        var base = 0, anchor = 0.0
        var count = 0, infinities = 0
        var sx = 0.0, six = 0.0, si = 0.0
        func add(_ i: Int) {
            let v = x[i]
            if v.isNaN { return }
            count += 1
            if v.isInfinite { infinities += 1; return }
            let p = Double(i - base), d = v - anchor
            sx += d; six += p * d; si += p
        }
        func remove(_ i: Int) {
            let v = x[i]
            if v.isNaN { return }
            count -= 1
            if v.isInfinite { infinities -= 1; return }
            let p = Double(i - base), d = v - anchor
            sx -= d; six -= p * d; si -= p
        }
        var blockStart = 0
        while blockStart < n {
            let blockEnd = w == Int.max ? n : min(n, blockStart + w)
            let lo = w == Int.max ? 0 : max(0, blockStart - w + 1)
            base = lo; count = 0; infinities = 0; sx = 0; six = 0; si = 0; anchor = 0
            for i in lo...blockStart where x[i].isFinite { anchor = x[i]; break }
            for i in lo...blockStart { add(i) }
            var t = blockStart
            while t < blockEnd {
                if t > blockStart {
                    add(t)
                    if t >= w { remove(t - w) }
                }
                let first = w == Int.max ? 0 : max(0, t - w + 1)
                if count == 0 {
                    out[t] = .nan
                } else if infinities > 0 {
                    out[t] = direct(x, first, t)
                } else {
                    // Weights relative to the window's first row: (i − base) − (first − base) + 1.
                    let shift = Double(first - base) - 1
                    let weights = si - shift * Double(count)
                    out[t] = anchor + (six - shift * sx) / weights
                }
                t += 1
            }
            blockStart = blockEnd
        }
    }

    static func direct(_ x: UnsafeBufferPointer<Double>, _ lo: Int, _ hi: Int) -> Double {
        var num = 0.0, den = 0.0
        for i in lo...hi where !x[i].isNaN {
            let weight = Double(i - lo + 1)
            num += weight * x[i]
            den += weight
        }
        return num / den
    }
}

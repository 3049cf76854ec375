/// Pearson correlation of paired values (two-pass: means first), the basis of IC and Rank IC.
public enum Correlation {
    /// Pearson correlation of `x` and `y` (same length); NaN under two pairs or when either has no spread.
    public static func pearson(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
        let n = x.count
        if n < 2 { return .nan }
        var mx = 0.0, my = 0.0
        for k in 0..<n { mx += x[k]; my += y[k] }
        mx /= Double(n); my /= Double(n)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for k in 0..<n {
            let dx = x[k] - mx, dy = y[k] - my
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy
        }
        if sxx == 0 || syy == 0 { return .nan }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Array convenience.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { yp in pearson(xp, yp) } }
    }
}

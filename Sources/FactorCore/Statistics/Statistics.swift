/// Small descriptive statistics over arrays of finite values.
public enum Statistics {
    /// Arithmetic mean (two-pass corrected); NaN for an empty array.
    public static func mean(_ x: [Double]) -> Double {
        if x.isEmpty { return .nan }
        var s = 0.0
        for v in x { s += v }
        let m = s / Double(x.count)
        var c = 0.0
        for v in x { c += v - m }
        return m + c / Double(x.count)
    }

    /// Sample standard deviation (ddof 1) around `mean`; NaN with fewer than two values.
    public static func sampleStd(_ x: [Double], mean: Double) -> Double {
        if x.count < 2 { return .nan }
        var s = 0.0
        for v in x { let d = v - mean; s += d * d }
        return (s / Double(x.count - 1)).squareRoot()
    }

    /// Sample standard deviation (ddof 1).
    public static func sampleStd(_ x: [Double]) -> Double { sampleStd(x, mean: mean(x)) }
}

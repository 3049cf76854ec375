import FactorCore
import Foundation
import Testing

/// The O(n) kernels against brute-force definitions (one window at a time, straight from the spec) on random
/// series with NaN gaps, ties, short windows and expanding windows.
@Suite("Kernels agree with brute-force window definitions")
struct KernelPropertyTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    /// Random walks around 100 with NaN runs and values rounded to create ties.
    static func series(seed: UInt64, count: Int) -> [Double] {
        var g = Generator(state: seed)
        var v = 100.0
        var out: [Double] = []
        var nanRun = 0
        for _ in 0..<count {
            v += (g.next() - 0.5) * 2
            if nanRun > 0 { nanRun -= 1; out.append(.nan); continue }
            if g.next() < 0.05 { nanRun = Int(g.next() * 4); out.append(.nan); continue }
            out.append(g.next() < 0.3 ? (v * 2).rounded() / 2 : v)
        }
        return out
    }

    /// Short windows, windows past the order statistics' sorted-array limit (64), and expanding ones.
    static let windows = [1, 2, 3, 5, 7, 12, 65, 100, 250, Int.max]

    static func window(_ x: [Double], _ t: Int, _ w: Int) -> (lo: Int, values: [Double]) {
        let lo = w == Int.max ? 0 : max(0, t - w + 1)
        return (lo, x[lo...t].filter { !$0.isNaN })
    }

    static func run(_ x: [Double], _ kernel: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void) -> [Double] {
        var out = [Double](repeating: -999, count: x.count)
        x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { kernel(xp, $0) } }
        return out
    }

    static func same(_ a: Double, _ b: Double, _ tol: Double = 1e-9) -> Bool {
        (a.isNaN && b.isNaN) || a == b || abs(a - b) <= tol * max(1, abs(b))
    }

    func check(_ name: String, _ fast: [Double], _ slow: [Double], tol: Double = 1e-9,
               sourceLocation: SourceLocation = #_sourceLocation) {
        for t in 0..<fast.count where !Self.same(fast[t], slow[t], tol) {
            Issue.record("\(name) row \(t): kernel \(fast[t]), brute force \(slow[t])", sourceLocation: sourceLocation)
            return
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func momentsExtremesAndOrderStatistics(seed: UInt64) {
        let x = Self.series(seed: seed, count: 400)
        for w in Self.windows {
            let windows = (0..<x.count).map { Self.window(x, $0, w) }
            func brute(_ f: ([Double]) -> Double) -> [Double] { windows.map { $0.values.isEmpty ? .nan : f($0.values) } }
            let mean = brute { $0.reduce(0, +) / Double($0.count) }
            check("Sum w\(w)", Self.run(x) { RollingMoments.compute(.sum, $0, window: w, into: $1) }, brute { $0.reduce(0, +) })
            check("Mean w\(w)", Self.run(x) { RollingMoments.compute(.mean, $0, window: w, into: $1) }, mean)
            check("Count w\(w)", Self.run(x) { RollingMoments.compute(.count, $0, window: w, into: $1) }, windows.map { Double($0.values.count) })
            let variance = brute { v in
                v.count < 2 ? .nan : { let m = v.reduce(0, +) / Double(v.count); return v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1) }()
            }
            check("Var w\(w)", Self.run(x) { RollingMoments.compute(.variance, $0, window: w, into: $1) }, variance, tol: 1e-7)
            check("Max w\(w)", Self.run(x) { RollingExtremes.extreme($0, window: w, largest: true, into: $1) }, brute { $0.max()! })
            check("Min w\(w)", Self.run(x) { RollingExtremes.extreme($0, window: w, largest: false, into: $1) }, brute { $0.min()! })
            func position(_ largest: Bool) -> [Double] {
                (0..<x.count).map { t -> Double in
                    let (lo, values) = Self.window(x, t, w)
                    if values.isEmpty { return .nan }
                    let raw = Array(x[lo...t])
                    if let nan = raw.firstIndex(where: { $0.isNaN }) { return Double(nan + 1) }
                    return Double(raw.firstIndex(of: largest ? raw.max()! : raw.min()!)! + 1)
                }
            }
            let idxMax = position(true)
            check("IdxMax w\(w)", Self.run(x) { RollingExtremes.position($0, window: w, largest: true, into: $1) }, idxMax)
            let idxMin = position(false)
            check("IdxMin w\(w)", Self.run(x) { RollingExtremes.position($0, window: w, largest: false, into: $1) }, idxMin)
            func quantile(_ v: [Double], _ q: Double) -> Double {
                let s = v.sorted(), pos = q * Double(s.count - 1), i = Int(pos)
                return i + 1 < s.count ? s[i] + (s[i + 1] - s[i]) * (pos - Double(i)) : s[i]
            }
            check("Quantile0.8 w\(w)", Self.run(x) { RollingOrderStatistics.compute(.quantile(0.8), $0, window: w, into: $1) }, brute { quantile($0, 0.8) })
            check("Med w\(w)", Self.run(x) { RollingOrderStatistics.compute(.median, $0, window: w, into: $1) }, brute { quantile($0, 0.5) })
            let rank = (0..<x.count).map { t -> Double in
                let values = Self.window(x, t, w).values
                if x[t].isNaN { return .nan }
                let less = values.filter { $0 < x[t] }.count, equal = values.filter { $0 == x[t] }.count
                return (Double(less) + Double(equal + 1) / 2) / Double(values.count)
            }
            check("Rank w\(w)", Self.run(x) { RollingOrderStatistics.compute(.rank, $0, window: w, into: $1) }, rank)
            let wma = (0..<x.count).map { t -> Double in
                let lo = w == Int.max ? 0 : max(0, t - w + 1)
                var num = 0.0, den = 0.0
                for i in lo...t where !x[i].isNaN { num += Double(i - lo + 1) * x[i]; den += Double(i - lo + 1) }
                return den == 0 ? .nan : num / den
            }
            check("WMA w\(w)", Self.run(x) { RollingWeightedMean.compute($0, window: w, into: $1) }, wma)
            // pandas' bias-corrected skewness and kurtosis from the window's central moments.
            func moments(_ v: [Double]) -> (n: Double, m2: Double, m3: Double, m4: Double) {
                let n = Double(v.count), m = v.reduce(0, +) / n
                let d = v.map { $0 - m }
                return (n, d.map { $0 * $0 }.reduce(0, +) / n, d.map { $0 * $0 * $0 }.reduce(0, +) / n, d.map { $0 * $0 * $0 * $0 }.reduce(0, +) / n)
            }
            let skew = brute { v in
                if v.count < 3 { return .nan }
                if Set(v).count == 1 { return 0 }
                let (n, m2, m3, _) = moments(v)
                return m2 <= 1e-14 ? .nan : (n * (n - 1)).squareRoot() * m3 / ((n - 2) * m2 * m2.squareRoot())
            }
            let kurt = brute { v in
                if v.count < 4 { return .nan }
                if Set(v).count == 1 { return -3 }
                let (n, m2, _, m4) = moments(v)
                return m2 <= 1e-14 ? .nan : ((n * n - 1) * m4 / (m2 * m2) - 3 * (n - 1) * (n - 1)) / ((n - 2) * (n - 3))
            }
            check("Skew w\(w)", Self.run(x) { RollingHigherMoments.compute(.skewness, $0, window: w, into: $1) }, skew, tol: 1e-6)
            check("Kurt w\(w)", Self.run(x) { RollingHigherMoments.compute(.kurtosis, $0, window: w, into: $1) }, kurt, tol: 1e-6)
            let mad = brute { v in let m = v.reduce(0, +) / Double(v.count); return v.map { abs($0 - m) }.reduce(0, +) / Double(v.count) }
            check("Mad w\(w)", Self.run(x) { RollingMeanAbsoluteDeviation.compute($0, window: w, into: $1) }, mad)
        }
    }

    @Test(arguments: [4, 5] as [UInt64])
    func regressionAndPairs(seed: UInt64) {
        let y = Self.series(seed: seed, count: 300)
        let z = Self.series(seed: seed + 100, count: 300)
        for w in Self.windows where w > 1 {
            var slope: [Double] = [], r2: [Double] = [], resi: [Double] = [], corr: [Double] = [], cov: [Double] = []
            for t in 0..<y.count {
                let lo = w == Int.max ? 0 : max(0, t - w + 1)
                let points = (lo...t).filter { !y[$0].isNaN }.map { (Double($0), y[$0]) }
                if points.count < 2 {
                    slope.append(.nan); r2.append(.nan); resi.append(.nan)
                } else {
                    let n = Double(points.count)
                    let mx = points.map(\.0).reduce(0, +) / n, my = points.map(\.1).reduce(0, +) / n
                    let sxy = points.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +)
                    let sxx = points.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +)
                    let syy = points.map { ($0.1 - my) * ($0.1 - my) }.reduce(0, +)
                    let b = sxy / sxx
                    slope.append(b)
                    r2.append((syy / (n - 1)).squareRoot() <= 2e-5 ? .nan : sxy * sxy / (sxx * syy))
                    resi.append(y[t].isNaN ? .nan : y[t] - (my + b * (Double(t) - mx)))
                }
                let pairs = (lo...t).filter { !y[$0].isNaN && !z[$0].isNaN }.map { (y[$0], z[$0]) }
                if pairs.count < 2 {
                    corr.append(.nan); cov.append(.nan)
                } else {
                    let n = Double(pairs.count)
                    let ma = pairs.map(\.0).reduce(0, +) / n, mb = pairs.map(\.1).reduce(0, +) / n
                    let sab = pairs.map { ($0.0 - ma) * ($0.1 - mb) }.reduce(0, +)
                    let saa = pairs.map { ($0.0 - ma) * ($0.0 - ma) }.reduce(0, +)
                    let sbb = pairs.map { ($0.1 - mb) * ($0.1 - mb) }.reduce(0, +)
                    cov.append(sab / (n - 1))
                    corr.append(sab / (saa * sbb).squareRoot())
                }
            }
            check("Slope w\(w)", Self.run(y) { RollingRegression.compute(.slope, $0, window: w, into: $1) }, slope, tol: 1e-7)
            check("Rsquare w\(w)", Self.run(y) { RollingRegression.compute(.rsquare, $0, window: w, into: $1) }, r2, tol: 1e-7)
            check("Resi w\(w)", Self.run(y) { RollingRegression.compute(.residual, $0, window: w, into: $1) }, resi, tol: 1e-7)
            var corrOut = [Double](repeating: 0, count: y.count), covOut = corrOut
            y.withUnsafeBufferPointer { a in
                z.withUnsafeBufferPointer { b in
                    corrOut.withUnsafeMutableBufferPointer { RollingPair.compute(.correlation, a, b, window: w, into: $0) }
                    covOut.withUnsafeMutableBufferPointer { RollingPair.compute(.covariance, a, b, window: w, into: $0) }
                }
            }
            check("Corr w\(w)", corrOut, corr, tol: 1e-7)
            check("Cov w\(w)", covOut, cov, tol: 1e-7)
        }
    }
}

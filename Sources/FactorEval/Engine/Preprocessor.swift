/// Per-row preprocessing of factor values over the universe's members (winsorize → neutralize → z-score).
struct Preprocessor {
    let settings: Preprocessing
    let universe: EvaluationUniverse

    /// The processed factor (instrument-major over the calendar); non-members and invalid values are NaN.
    func apply(_ factor: [Double]) -> [Double] {
        let length = universe.calendar.count, n = universe.instruments.count
        var out = [Double](repeating: .nan, count: factor.count)
        var idx: [Int] = []
        var vals: [Double] = []
        for t in universe.window {
            idx.removeAll(keepingCapacity: true)
            vals.removeAll(keepingCapacity: true)
            for i in 0..<n where universe.isMember(i, t) && factor[i * length + t].isFinite {
                idx.append(i); vals.append(factor[i * length + t])
            }
            if let logSize = universe.logSize {
                // Size neutralization needs the size: names without it drop out of this row.
                var keep = 0
                for k in 0..<idx.count where logSize[idx[k] * length + t].isFinite {
                    idx[keep] = idx[k]; vals[keep] = vals[k]; keep += 1
                }
                idx.removeLast(idx.count - keep); vals.removeLast(vals.count - keep)
            }
            if vals.isEmpty { continue }
            if let w = settings.winsorize { winsorize(&vals, w) }
            if settings.neutralizeIndustry || universe.logSize != nil { neutralize(&vals, idx, t: t) }
            if settings.zscore { standardize(&vals) }
            for (k, i) in idx.enumerated() { out[i * length + t] = vals[k] }
        }
        return out
    }

    private func winsorize(_ vals: inout [Double], _ rule: Preprocessing.Winsorize) {
        let sorted = vals.sorted()
        let lo: Double, hi: Double
        switch rule {
        case .mad(let k):
            let median = Self.median(sorted)
            let mad = Self.median(vals.map { abs($0 - median) }.sorted())
            lo = median - k * 1.4826 * mad
            hi = median + k * 1.4826 * mad
        case .quantile(let p):
            lo = sorted.withUnsafeBufferPointer { QuantileEdges.quantile(sorted: $0, p) }
            hi = sorted.withUnsafeBufferPointer { QuantileEdges.quantile(sorted: $0, 1 - p) }
        }
        for k in 0..<vals.count { vals[k] = min(max(vals[k], lo), hi) }
    }

    /// The residual of an OLS regression on industry dummies (or an intercept) and, with size, log market value.
    /// By Frisch–Waugh–Lovell: demean the factor and log size within each group, then take the factor's residual on
    /// the demeaned size.
    private func neutralize(_ vals: inout [Double], _ idx: [Int], t: Int) {
        let group = { (i: Int) -> Int in settings.neutralizeIndustry ? (universe.industry[i] ?? -1) : 0 }
        func demeaned(_ x: [Double]) -> [Double] {
            var sums: [Int: (Double, Int)] = [:]
            for (k, i) in idx.enumerated() {
                let s = sums[group(i)] ?? (0, 0)
                sums[group(i)] = (s.0 + x[k], s.1 + 1)
            }
            return idx.enumerated().map { k, i in let s = sums[group(i)]!; return x[k] - s.0 / Double(s.1) }
        }
        vals = demeaned(vals)
        guard let logSize = universe.logSize else { return }
        let length = universe.calendar.count
        let size = demeaned(idx.map { logSize[$0 * length + t] })
        var sxy = 0.0, sxx = 0.0
        for k in 0..<vals.count { sxy += size[k] * vals[k]; sxx += size[k] * size[k] }
        guard sxx > 0 else { return }
        let beta = sxy / sxx
        for k in 0..<vals.count { vals[k] -= beta * size[k] }
    }

    private func standardize(_ vals: inout [Double]) {
        let m = SummaryStatistics.mean(vals), s = SummaryStatistics.std(vals)
        for k in 0..<vals.count { vals[k] = s > 0 ? (vals[k] - m) / s : .nan }
    }

    static func median(_ sorted: [Double]) -> Double {
        let c = sorted.count
        if c == 0 { return .nan }
        return c % 2 == 1 ? sorted[c / 2] : (sorted[c / 2 - 1] + sorted[c / 2]) / 2
    }
}

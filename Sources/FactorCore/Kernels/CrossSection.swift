/// Cross-sectional transforms of one calendar row: the values of the universe members on that date.
///
/// Inputs hold only the members' values; non-finite values are left out of every statistic and give NaN.
public enum CrossSection {
    public enum Transform: Sendable {
        /// Percentile rank in (0, 1]: average rank of ties ÷ number of valid values.
        case rank
        /// (x − mean) / sample std (ddof 1); NaN when fewer than two values or zero spread.
        case zscore
        /// x − mean.
        case demean
        /// x / Σ|x|; NaN when the sum is 0.
        case scale
    }

    /// Applies `transform` to `values` in place; `scratch` buffers are reused across rows.
    public static func apply(_ transform: Transform, _ values: inout [Double], scratch: inout Scratch) {
        let n = values.count
        scratch.valid.removeAll(keepingCapacity: true)
        scratch.index.removeAll(keepingCapacity: true)
        for i in 0..<n where values[i].isFinite {
            scratch.valid.append(values[i]); scratch.index.append(i)
        }
        let m = scratch.valid.count
        var out = [Double](repeating: .nan, count: n)
        if m > 0 {
            switch transform {
            case .rank:
                if scratch.ranks.count < m { scratch.ranks = [Double](repeating: 0, count: m) }
                scratch.valid.withUnsafeBufferPointer { v in
                    scratch.ranks.withUnsafeMutableBufferPointer { r in
                        Ranking.averageRanks(v, into: UnsafeMutableBufferPointer(rebasing: r[0..<m]),
                                             scratch: &scratch.order)
                    }
                }
                for k in 0..<m { out[scratch.index[k]] = scratch.ranks[k] / Double(m) }
            case .zscore, .demean:
                let mean = Statistics.mean(scratch.valid)
                if transform == .demean {
                    for k in 0..<m { out[scratch.index[k]] = scratch.valid[k] - mean }
                } else {
                    let sd = Statistics.sampleStd(scratch.valid, mean: mean)
                    if m >= 2 && sd > 0 {
                        for k in 0..<m { out[scratch.index[k]] = (scratch.valid[k] - mean) / sd }
                    }
                }
            case .scale:
                var total = 0.0
                for v in scratch.valid { total += abs(v) }
                if total > 0 {
                    for k in 0..<m { out[scratch.index[k]] = scratch.valid[k] / total }
                }
            }
        }
        values = out
    }

    /// Reusable buffers for `apply`.
    public struct Scratch {
        var valid: [Double] = []
        var index: [Int] = []
        var ranks: [Double] = []
        var order: [Int32] = []
        public init() {}
    }
}

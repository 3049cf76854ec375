/// Cross-sectional transforms of one calendar row: the values of the universe members on that date.
///
/// Inputs hold only the members' values; non-finite values are left out of every statistic and give NaN.
public enum CrossSection {
    public enum Transform: Sendable {
        /// Percentile rank in (0, 1]: average rank of ties ÷ number of valid values.
        case rank
        /// WorldQuant's rank in [0, 1]: (average rank − 1) ÷ (number of valid values − 1); NaN for a lone value.
        case unitRank
        /// (x − mean) / sample std (ddof 1); NaN when fewer than two values or zero spread.
        case zscore
        /// x − mean.
        case demean
        /// x − the plain mean (values summed in row order, divided by their count): WorldQuant's `IndNeutralize` as
        /// BRAIN ports compute it, bit for bit (the compensated mean of `demean` can differ in the last bit, which
        /// breaks ties the port keeps).
        case plainDemean
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
            case .rank, .unitRank:
                if scratch.ranks.count < m { scratch.ranks = [Double](repeating: 0, count: m) }
                scratch.valid.withUnsafeBufferPointer { v in
                    scratch.ranks.withUnsafeMutableBufferPointer { r in
                        Ranking.averageRanks(v, into: UnsafeMutableBufferPointer(rebasing: r[0..<m]),
                                             scratch: &scratch.order)
                    }
                }
                if transform == .rank {
                    for k in 0..<m { out[scratch.index[k]] = scratch.ranks[k] / Double(m) }
                } else if m > 1 {
                    for k in 0..<m { out[scratch.index[k]] = (scratch.ranks[k] - 1) / (Double(m) - 1) }
                }
            case .plainDemean:
                var sum = 0.0
                for v in scratch.valid { sum += v }
                let mean = sum / Double(m)
                for k in 0..<m { out[scratch.index[k]] = scratch.valid[k] - mean }
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

extension CrossSection {
    /// Applies `transform` within each group: the values whose `groups` code is the same form one cross-section (so a
    /// rank is among the group's valid values, a mean the group's). A value without a group (code < 0) gives NaN.
    public static func applyGrouped(_ transform: Transform, _ values: inout [Double], groups: [Int32], scratch: inout Scratch) {
        let n = values.count
        var out = [Double](repeating: .nan, count: n)
        // Positions by group code, in row order within each group.
        var order = (0..<n).filter { groups[$0] >= 0 }
        order.sort { groups[$0] < groups[$1] || (groups[$0] == groups[$1] && $0 < $1) }
        var k = 0
        var members: [Double] = []
        while k < order.count {
            var j = k + 1
            while j < order.count && groups[order[j]] == groups[order[k]] { j += 1 }
            members.removeAll(keepingCapacity: true)
            for m in k..<j { members.append(values[order[m]]) }
            apply(transform, &members, scratch: &scratch)
            for m in k..<j { out[order[m]] = members[m - k] }
            k = j
        }
        values = out
    }

    /// The residual of `x` on `y` with an intercept (OLS over the pairs where both are finite):
    /// (x − x̄) − b·(y − ȳ) with b = Σ(x − x̄)(y − ȳ) / Σ(y − ȳ)², b = 0 when y has no spread. Under two pairs, NaN.
    public static func residual(_ x: [Double], on y: [Double]) -> [Double] {
        let pairs = x.indices.filter { x[$0].isFinite && y[$0].isFinite }
        var out = [Double](repeating: .nan, count: x.count)
        guard pairs.count >= 2 else { return out }
        var mx = 0.0, my = 0.0
        for k in pairs { mx += x[k]; my += y[k] }
        mx /= Double(pairs.count); my /= Double(pairs.count)
        var sxy = 0.0, syy = 0.0
        for k in pairs {
            sxy += (x[k] - mx) * (y[k] - my)
            syy += (y[k] - my) * (y[k] - my)
        }
        let b = syy > 0 ? sxy / syy : 0
        for k in pairs { out[k] = (x[k] - mx) - b * (y[k] - my) }
        return out
    }
}

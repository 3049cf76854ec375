/// Reusable raw buffers for one row's sample: instruments, factor values (ascending), returns, and the rank
/// arrays of a Rank IC. Raw storage keeps the per-row loops free of array bookkeeping; one workspace per factor run.
final class RankICWorkspace {
    let capacity: Int
    let index: UnsafeMutablePointer<Int32>
    let factor: UnsafeMutablePointer<Double>
    let returns: UnsafeMutablePointer<Double>
    let factorRank: UnsafeMutablePointer<Double>
    let returnRankInSample: UnsafeMutablePointer<Double>
    /// Per instrument: in the current sample, and its return rank.
    let inSample: UnsafeMutablePointer<Bool>
    let returnRank: UnsafeMutablePointer<Double>
    var count = 0

    init(instruments: Int) {
        capacity = max(1, instruments)
        index = .allocate(capacity: capacity)
        factor = .allocate(capacity: capacity)
        returns = .allocate(capacity: capacity)
        factorRank = .allocate(capacity: capacity)
        returnRankInSample = .allocate(capacity: capacity)
        inSample = .allocate(capacity: capacity)
        inSample.initialize(repeating: false, count: capacity)
        returnRank = .allocate(capacity: capacity)
        returnRank.initialize(repeating: .nan, count: capacity)
    }

    deinit {
        index.deallocate(); factor.deallocate(); returns.deallocate(); factorRank.deallocate()
        returnRankInSample.deallocate(); inSample.deallocate(); returnRank.deallocate()
    }

    @inline(__always)
    func append(_ i: Int32, _ f: Double, _ r: Double) {
        index[count] = i; factor[count] = f; returns[count] = r
        count += 1
    }

    /// Whether the sample's returns are not all equal.
    var returnsHaveSpread: Bool {
        if count == 0 { return false }
        let first = returns[0]
        for k in 1..<max(1, count) where returns[k] != first { return true }
        return false
    }

    /// Whether the sample's factor values (ascending) are not all equal.
    var factorHasSpread: Bool { count > 0 && factor[0] < factor[count - 1] }

    /// Pearson correlation of the sample's factor values and returns.
    func informationCoefficient() -> Double { Self.pearson(factor, returns, count) }

    /// Rank IC of the sample: average ranks of the factor values (already ascending) and of the returns, the
    /// latter read off `order` (every instrument with a return on this row, ascending) filtered to the sample.
    func rankInformationCoefficient(order: UnsafeBufferPointer<Int32>, rowReturns: UnsafePointer<Double>,
                                    hasTies: Bool = true) -> Double {
        let n = count
        var k = 0
        while k < n {
            var j = k + 1
            while j < n && factor[j] == factor[k] { j += 1 }
            let r = Double(k + 1 + j) / 2
            for m in k..<j { factorRank[m] = r }
            k = j
        }
        for m in 0..<n { inSample[Int(index[m])] = true }
        var position = 0
        k = 0
        let total = order.count
        if !hasTies {
            // No equal returns on this row: ranks are plain positions among the sample.
            for m in 0..<total {
                let i = Int(order[m])
                if inSample[i] { position += 1; returnRank[i] = Double(position) }
            }
            k = total
        }
        while k < total {
            let v = rowReturns[Int(order[k])]
            var j = k + 1
            while j < total && rowReturns[Int(order[j])] == v { j += 1 }
            var members = 0
            for m in k..<j where inSample[Int(order[m])] { members += 1 }
            if members > 0 {
                let r = Double(2 * position + 1 + members) / 2
                for m in k..<j where inSample[Int(order[m])] { returnRank[Int(order[m])] = r }
                position += members
            }
            k = j
        }
        for m in 0..<n {
            let i = Int(index[m])
            returnRankInSample[m] = returnRank[i]
            inSample[i] = false
        }
        return Self.pearson(factorRank, returnRankInSample, n)
    }

    /// Two-pass Pearson correlation; NaN under two values or without spread.
    static func pearson(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double {
        Correlation.pearson(UnsafeBufferPointer(start: x, count: n), UnsafeBufferPointer(start: y, count: n))
    }
}

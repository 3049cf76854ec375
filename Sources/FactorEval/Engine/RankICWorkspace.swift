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
    /// One bit per place of a row's return order (the sample's places), and the set bits before each word.
    let places: UnsafeMutablePointer<UInt64>
    let placesBefore: UnsafeMutablePointer<Int>
    let placeWords: Int
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
        placeWords = capacity / 64 + 1  // one spare word: "places below the last one + 1" reads it
        places = .allocate(capacity: placeWords)
        places.initialize(repeating: 0, count: placeWords)
        placesBefore = .allocate(capacity: placeWords)
    }

    deinit {
        index.deallocate(); factor.deallocate(); returns.deallocate(); factorRank.deallocate()
        returnRankInSample.deallocate(); inSample.deallocate(); returnRank.deallocate()
        places.deallocate(); placesBefore.deallocate()
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

    /// Rank IC of the sample from the row's return places: average ranks of the factor values (already ascending)
    /// and of the returns among the sample, correlated.
    ///
    /// Ranks are kept doubled (integers), so every sum is exact in `Int`; the correlation is then the one the two-pass
    /// formula gives on the same ranks bit for bit (their means, deviations, products and sums are all exact there
    /// too, and scaling by powers of two commutes with the final rounding), without the second pass and the scan of
    /// every instrument of the row.
    func rankInformationCoefficient(_ ranking: ReturnRanking) -> Double {
        let n = count
        if n < 2 { return .nan }
        let words = ranking.count / 64 + 1
        var sxx = 0, sxy = 0, syy = 0
        ranking.positions.withUnsafeBufferPointer { all in
            let position = all.baseAddress! + ranking.offset
            for m in 0..<n {
                let p = Int(position[Int(index[m])])
                places[p >> 6] |= 1 &<< UInt64(p & 63)
            }
            var below = 0
            for w in 0..<words {
                placesBefore[w] = below
                below += places[w].nonzeroBitCount
            }
            @inline(__always) func placesBelow(_ p: Int) -> Int {
                placesBefore[p >> 6] + (places[p >> 6] & ((1 &<< UInt64(p & 63)) &- 1)).nonzeroBitCount
            }
            var k = 0
            while k < n {
                var j = k + 1
                while j < n && factor[j] == factor[k] { j += 1 }
                let x = k + 1 + j  // twice the average rank of places k+1 … j
                sxx += (j - k) * x * x
                for m in k..<j {
                    let p = Int(position[Int(index[m])])
                    let y: Int
                    if let bounds = ranking.tieBounds {
                        let before = placesBelow(Int(bounds[2 * p])), through = placesBelow(Int(bounds[2 * p + 1]))
                        y = 2 * before + (through - before) + 1
                    } else {
                        y = 2 * placesBelow(p) + 2
                    }
                    sxy += x * y
                    syy += y * y
                }
                k = j
            }
            for w in 0..<words { places[w] = 0 }
        }
        // Both doubled-rank sums are n(n+1); centre the sums of squares and products.
        let centring = n * (n + 1) * (n + 1)
        let cxx = sxx - centring, cyy = syy - centring, cxy = sxy - centring
        if cxx == 0 || cyy == 0 { return .nan }
        return Double(cxy) / (Double(cxx) * Double(cyy)).squareRoot()
    }

    /// Two-pass Pearson correlation; NaN under two values or without spread.
    static func pearson(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double {
        Correlation.pearson(UnsafeBufferPointer(start: x, count: n), UnsafeBufferPointer(start: y, count: n))
    }
}

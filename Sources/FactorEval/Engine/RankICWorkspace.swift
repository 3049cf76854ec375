import FactorCore

/// Reusable raw buffers for one row's sample: member slots, factor values (ascending) and returns, plus the bit set
/// of a Rank IC over a subset of the row. Raw storage keeps the per-row loops free of array bookkeeping; one
/// workspace per factor run.
final class RankICWorkspace {
    let capacity: Int
    /// The sample's members as local slots of the row (see `MemberRows`).
    let index: UnsafeMutablePointer<Int32>
    let factor: UnsafeMutablePointer<Double>
    let returns: UnsafeMutablePointer<Double>
    /// One bit per place of a row's return order (the sample's places), and the set bits before each word.
    let places: UnsafeMutablePointer<UInt64>
    let placesBefore: UnsafeMutablePointer<Int>
    let placeWords: Int
    var count = 0

    init(members: Int) {
        capacity = max(1, members)
        index = .allocate(capacity: capacity)
        factor = .allocate(capacity: capacity)
        returns = .allocate(capacity: capacity)
        placeWords = capacity / 64 + 1  // one spare word: "places below the last one + 1" reads it
        places = .allocate(capacity: placeWords)
        places.initialize(repeating: 0, count: placeWords)
        placesBefore = .allocate(capacity: placeWords)
    }

    deinit {
        index.deallocate(); factor.deallocate(); returns.deallocate()
        places.deallocate(); placesBefore.deallocate()
    }

    @inline(__always)
    func append(_ slot: Int32, _ f: Double, _ r: Double) {
        index[count] = slot; factor[count] = f; returns[count] = r
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
    func informationCoefficient() -> Double {
        Correlation.pearson(UnsafeBufferPointer(start: factor, count: count), UnsafeBufferPointer(start: returns, count: count))
    }

    /// Rank IC of the sample from the row's return places: average ranks of the factor values (already ascending)
    /// and of the returns among the sample, correlated (`fromDoubledRanks`).
    ///
    /// `excluded` holds the places of the row's members that have a return but are not in the sample (no factor
    /// value), in any order. A member's return rank among the sample is its place less the excluded places below it:
    /// counted off that list when it is short (a name or two without a value is the usual case), else off a bit set
    /// of the sample's places.
    func rankInformationCoefficient(_ ranking: ReturnRanking, excluded: UnsafeBufferPointer<Int32>) -> Double {
        let n = count
        if n < 2 { return .nan }
        let useList = excluded.count <= 16
        let words = ranking.count / 64 + 1
        if !useList {
            for m in 0..<n {
                let p = ranking.place(index[m])
                places[p >> 6] |= 1 &<< UInt64(p & 63)
            }
            var below = 0
            for w in 0..<words {
                placesBefore[w] = below
                below += places[w].nonzeroBitCount
            }
        }
        /// Sample places below place p: those of the bit set, or p less the excluded places below it.
        @inline(__always) func placesBelow(_ p: Int) -> Int {
            placesBefore[p >> 6] + (places[p >> 6] & ((1 &<< UInt64(p & 63)) &- 1)).nonzeroBitCount
        }
        var sxx = 0, sxy = 0, syy = 0
        var k = 0
        while k < n {
            var j = k + 1
            while j < n && factor[j] == factor[k] { j += 1 }
            let x = k + 1 + j  // twice the average rank of places k+1 … j
            sxx += (j - k) * x * x
            for m in k..<j {
                // Its run of equal returns is places lo ..< hi among all members with a return; among the sample it
                // is before ..< through, and twice the average rank is before + through + 1.
                let (full, lo) = ranking.rank(index[m])
                let hi = full - lo - 1
                let y: Int
                if useList {
                    var dropped = 0
                    for e in excluded { dropped += (Int(e) < lo ? 1 : 0) + (Int(e) < hi ? 1 : 0) }
                    y = full - dropped
                } else {
                    y = placesBelow(lo) + placesBelow(hi) + 1
                }
                sxy += x * y
                syy += y * y
            }
            k = j
        }
        if !useList { for w in 0..<words { places[w] = 0 } }
        return Self.fromDoubledRanks(n: n, sxx: sxx, sxy: sxy, syy: syy)
    }

    /// The Rank IC from sums over doubled average ranks (integers, so every sum is exact): Σx², Σxy, Σy² of n pairs.
    ///
    /// It is the two-pass Pearson correlation of the ranks bit for bit: both doubled-rank sums are n(n+1), so the
    /// centred sums are exact integers, four times the centred sums of the ranks themselves, and scaling by powers of
    /// two commutes with the final rounding.
    @inline(__always)
    static func fromDoubledRanks(n: Int, sxx: Int, sxy: Int, syy: Int) -> Double {
        let centring = n * (n + 1) * (n + 1)
        let cxx = sxx - centring, cyy = syy - centring, cxy = sxy - centring
        if cxx == 0 || cyy == 0 { return .nan }
        return Double(cxy) / (Double(cxx) * Double(cyy)).squareRoot()
    }
}

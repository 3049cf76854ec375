import FactorCore

/// A factor's rank autocorrelation, row after row: today's average ranks among the members with a value, correlated
/// with yesterday's over the instruments ranked on both rows (ranks are not recomputed on that intersection).
final class RankAutocorrelation {
    /// Per instrument: its rank today and yesterday (NaN when not ranked); the instruments ranked on each row.
    private var rank: UnsafeMutablePointer<Double>
    private var previousRank: UnsafeMutablePointer<Double>
    private var ranked: UnsafeMutablePointer<Int32>
    private var rankedBefore: UnsafeMutablePointer<Int32>
    private var rankedCount = 0, rankedBeforeCount = 0
    private let x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>

    init(instruments: Int, widest: Int) {
        let instruments = max(1, instruments), widest = max(1, widest)
        rank = .allocate(capacity: instruments)
        rank.initialize(repeating: .nan, count: instruments)
        previousRank = .allocate(capacity: instruments)
        previousRank.initialize(repeating: .nan, count: instruments)
        ranked = .allocate(capacity: widest)
        rankedBefore = .allocate(capacity: widest)
        x = .allocate(capacity: widest)
        y = .allocate(capacity: widest)
    }

    deinit {
        rank.deallocate(); previousRank.deallocate(); ranked.deallocate(); rankedBefore.deallocate()
        x.deallocate(); y.deallocate()
    }

    /// The next row's value: `n` members in ascending factor order, `instrumentOf(k)` the k-th one's instrument and
    /// `doubledRank[k]` twice its average rank; NaN on the first row or with fewer than two pairs.
    func next(first: Bool, count n: Int, doubledRank: UnsafePointer<Int32>, instrumentOf: (Int) -> Int32) -> Double {
        for k in 0..<rankedBeforeCount { previousRank[Int(rankedBefore[k])] = .nan }
        swap(&previousRank, &rank)
        swap(&rankedBefore, &ranked)
        rankedBeforeCount = rankedCount
        for k in 0..<n {
            let i = instrumentOf(k)
            rank[Int(i)] = Double(doubledRank[k]) / 2
            ranked[k] = i
        }
        rankedCount = n
        guard !first else { return .nan }
        var pairs = 0
        for k in 0..<n {
            let i = Int(ranked[k]), before = previousRank[i]
            if before.isFinite {
                x[pairs] = rank[i]
                y[pairs] = before
                pairs += 1
            }
        }
        return pairs < 2 ? .nan : Correlation.pearson(UnsafeBufferPointer(start: x, count: pairs), UnsafeBufferPointer(start: y, count: pairs))
    }
}

import Dispatch
import FactorCore

/// One series of returns ranked among each evaluated row's members: what the Rank IC of any factor's sample needs from
/// the returns, computed once per evaluation and shared by every factor.
///
/// When a factor's sample on a row is exactly the members with a return (the usual case), the Rank IC needs only
/// `doubledRank` and `sumOfSquares`; otherwise the sample's own return ranks are counted off `place` and `runStart`
/// (see `RankICWorkspace`).
struct MemberReturnRanks: Sendable {
    /// Per slot: the return (NaN without one); empty when the series was ranked without its values.
    let value: [Double]
    /// Per slot: twice its average rank among the row's members with a finite return (an integer); 0 without one.
    let doubledRank: [Int32]
    /// Per slot: its place in ascending return order among the row's members with a return; −1 without one.
    let place: [Int32]
    /// Per slot with a return: the first place of its run of equal returns (its own place when no other member has
    /// the same return). The run ends before place `doubledRank − runStart − 1`.
    let runStart: [Int32]
    /// Per window row: the members with a return, Σ doubledRank², and whether their returns differ.
    let withReturn: [Int]
    let sumOfSquares: [Int]
    let hasSpread: [Bool]

    /// Ranks `returns` on row t + `lag` among the members of each window row t (no return past the data), keeping
    /// the returns themselves by slot when `keepValues`.
    init(rows: MemberRows, returns: ForwardReturns, lag: Int, keepValues: Bool) {
        let slotCount = rows.instruments.count
        var value = [Double](repeating: .nan, count: keepValues ? slotCount : 0)
        var doubledRank = [Int32](repeating: 0, count: slotCount)
        var place = [Int32](repeating: -1, count: slotCount)
        var runStart = [Int32](repeating: -1, count: slotCount)
        var withReturn: [Int] = [], sumOfSquares: [Int] = [], hasSpread: [Bool] = []
        let order = ValueOrder(capacity: rows.widest)
        let n = returns.instruments
        returns.byRow.withUnsafeBufferPointer { byRow in
            for t in rows.window {
                let slots = rows.slots(t)
                let s = t + lag
                order.removeAll()
                if s < returns.length {
                    let rRow = byRow.baseAddress! + s * n
                    for (local, slot) in slots.enumerated() {
                        let r = rRow[Int(rows.instruments[slot])]
                        if r.isFinite {
                            order.append(r, Int32(local))
                            if keepValues { value[slot] = r }
                        }
                    }
                }
                order.sort()
                let count = order.count, sorted = order.sortedTags
                var sum = 0
                var k = 0
                while k < count {
                    let v = order.value(k)
                    var j = k + 1
                    while j < count && order.value(j) == v { j += 1 }
                    let y = k + 1 + j  // twice the average of places k+1 … j
                    for m in k..<j {
                        let slot = slots.lowerBound + Int(sorted[m])
                        doubledRank[slot] = Int32(y)
                        place[slot] = Int32(m)
                        runStart[slot] = Int32(k)
                    }
                    sum += (j - k) * y * y
                    k = j
                }
                withReturn.append(count)
                sumOfSquares.append(sum)
                hasSpread.append(count > 0 && order.value(0) < order.value(count - 1))
            }
        }
        self.value = value
        self.doubledRank = doubledRank
        self.place = place
        self.runStart = runStart
        self.withReturn = withReturn
        self.sumOfSquares = sumOfSquares
        self.hasSpread = hasSpread
    }

    /// The places of window row `row` (whose first slot is `base`), for a Rank IC over a subset of its members.
    @inline(__always)
    func ranking(row: Int, base: Int) -> ReturnRanking {
        ReturnRanking(ranks: self, offset: base, count: withReturn[row])
    }

    /// Each series ranked on its own thread.
    static func rank(_ series: [(returns: ForwardReturns, lag: Int, keepValues: Bool)], rows: MemberRows) -> [MemberReturnRanks] {
        let results = ResultSlots<MemberReturnRanks>(count: series.count)
        DispatchQueue.concurrentPerform(iterations: series.count) { k in
            results.set(k, MemberReturnRanks(rows: rows, returns: series[k].returns, lag: series[k].lag, keepValues: series[k].keepValues))
        }
        return results.values
    }
}

/// One row's member returns in ascending order, as places: a Rank IC over a subset of the members reads each one's
/// place and counts the subset's places below it, so the subset needs no sort.
struct ReturnRanking {
    let ranks: MemberReturnRanks
    /// The row's first slot.
    let offset: Int
    /// Members with a finite return on the row.
    let count: Int

    /// The place of the member in local slot `slot`.
    @inline(__always)
    func place(_ slot: Int32) -> Int { Int(ranks.place[offset + Int(slot)]) }

    /// Twice the member's average rank among all the row's members with a return, and the first place of its run of
    /// equal returns (the run is places runStart ..< doubledRank − runStart − 1).
    @inline(__always)
    func rank(_ slot: Int32) -> (doubled: Int, runStart: Int) {
        (Int(ranks.doubledRank[offset + Int(slot)]), Int(ranks.runStart[offset + Int(slot)]))
    }
}

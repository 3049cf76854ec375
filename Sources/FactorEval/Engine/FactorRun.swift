import FactorCore

/// The row-by-row evaluation of one factor: every per-row figure of `spec/evaluation.md` for every horizon,
/// the rank autocorrelation and the decay sums. Scratch buffers are reused across rows.
///
/// Each row's valid values are sorted once and ranked once; those ranks serve the rank autocorrelation, and every
/// Rank IC (each horizon, each decay lag) whose sample is the row's whole cross-section with a return — then the
/// returns' ranks come precomputed from the evaluator and a Rank IC is one pass of integer products.
struct FactorRun {
    let evaluator: FactorEvaluator
    /// The factor's member cells by slot (see `MemberRows`): each row's values are contiguous.
    let factor: SlotValues
    let length: Int
    let count: Int

    // Per-row series, per horizon.
    var series: [HorizonSeries]
    var autocorrelation: [Double] = []
    var decaySum: [Double]
    var decayCount: [Int]

    // Scratch.
    /// One sample per horizon, filled in one pass over the row; the last one serves the decay lags' odd rows.
    private let workspaces: [RankICWorkspace]
    /// Per series (horizons, then decay lags), over the row's sample (sorted members with a return in the series):
    /// its size, and with x twice a member's factor rank among the sample and y twice its return rank among all
    /// members with a return, Σx² and Σxy.
    private var sampleSize: [Int]
    private var sampleRankSquares: [Int]
    private var sampleProducts: [Int]
    private let order: ValueOrder
    /// The current row's members with a valid factor in ascending order of it: local slot, value and twice the
    /// average rank (ties share it), by sorted position.
    private var sortedSlot: [Int32]
    private var sortedValue: [Double]
    private var sortedRank: [Int32]
    private var sortedCount = 0
    /// Σ sortedRank² of the current row.
    private var sortedRankSquares = 0
    /// The current row's members without a valid factor (local slots), and the return places of those that have a
    /// return in the series at hand.
    private var missingSlots: [Int32] = []
    private var excludedPlaces: [Int32] = []
    private let autocorrelationState: RankAutocorrelation
    private var edges: [Double] = []
    private var groupMean: [Double]
    /// Per horizon: the turnover of the top and the bottom group.
    private let turnoverTop: [GroupTurnover]
    private let turnoverBottom: [GroupTurnover]

    init(evaluator: FactorEvaluator, factor: SlotValues) {
        self.evaluator = evaluator
        length = evaluator.universe.calendar.count
        count = evaluator.universe.instruments.count
        self.factor = factor
        let q = evaluator.settings.quantiles
        groupMean = Array(repeating: .nan, count: q)
        turnoverTop = evaluator.returnRanks.map { _ in GroupTurnover(instruments: evaluator.universe.instruments.count, widest: evaluator.rows.widest) }
        turnoverBottom = evaluator.returnRanks.map { _ in GroupTurnover(instruments: evaluator.universe.instruments.count, widest: evaluator.rows.widest) }
        series = evaluator.returnRanks.map { _ in HorizonSeries(quantiles: q, rows: evaluator.rows.window.count) }
        let widest = evaluator.rows.widest
        workspaces = (0...evaluator.returnRanks.count).map { _ in RankICWorkspace(members: widest) }
        sampleSize = Array(repeating: 0, count: evaluator.seriesCount)
        sampleRankSquares = Array(repeating: 0, count: evaluator.seriesCount)
        sampleProducts = Array(repeating: 0, count: evaluator.seriesCount)
        order = ValueOrder(capacity: widest)
        sortedSlot = Array(repeating: 0, count: widest)
        sortedValue = Array(repeating: 0, count: widest)
        sortedRank = Array(repeating: 0, count: widest)
        decaySum = Array(repeating: 0, count: evaluator.settings.decayLags + 1)
        decayCount = Array(repeating: 0, count: evaluator.settings.decayLags + 1)
        autocorrelationState = RankAutocorrelation(instruments: count, widest: widest)
        autocorrelation.reserveCapacity(evaluator.rows.window.count)
    }

    /// Evaluates window row t (the `row`-th), after the rows before it.
    mutating func step(row: Int, t: Int) {
        let slots = evaluator.rows.slots(t)
        sortRow(t: t, slots: slots)
        rankAutocorrelation(row: row, base: slots.lowerBound)
        gatherSeries(base: slots.lowerBound)
        for h in 0..<evaluator.returnRanks.count {
            horizonRow(h, row: row, slots: slots)
        }
        decayRow(row: row, t: t, base: slots.lowerBound)
    }

    /// The row's members with a valid factor, sorted and ranked (twice the average rank, so ranks are integers).
    private mutating func sortRow(t: Int, slots: Range<Int>) {
        let order = self.order
        order.removeAll()
        missingSlots.removeAll(keepingCapacity: true)
        let values = factor.values
        for local in 0..<slots.count {
            let v = values[slots.lowerBound + local]
            if v.isFinite { order.append(v, Int32(local)) } else { missingSlots.append(Int32(local)) }
        }
        order.sort()
        let n = order.count
        sortedCount = n
        var squares = 0
        sortedSlot.withUnsafeMutableBufferPointer { slot in
            sortedValue.withUnsafeMutableBufferPointer { value in
                sortedRank.withUnsafeMutableBufferPointer { rank in
                    let tags = order.sortedTags
                    for k in 0..<n { slot[k] = tags[k]; value[k] = order.value(k) }
                    var k = 0
                    while k < n {
                        var j = k + 1
                        while j < n && value[j] == value[k] { j += 1 }
                        let x = k + 1 + j  // twice the average of positions k+1 … j
                        for m in k..<j { rank[m] = Int32(x) }
                        squares += (j - k) * x * x
                        k = j
                    }
                }
            }
        }
        sortedRankSquares = squares
    }

    // MARK: Rank autocorrelation

    private mutating func rankAutocorrelation(row: Int, base: Int) {
        let value = evaluator.rows.instruments.withUnsafeBufferPointer { instruments in
            sortedSlot.withUnsafeBufferPointer { slot in
                sortedRank.withUnsafeBufferPointer { rank in
                    autocorrelationState.next(first: row == 0, count: sortedCount, doubledRank: rank.baseAddress!) {
                        instruments[base + Int(slot[$0])]
                    }
                }
            }
        }
        autocorrelation.append(value)
    }

    // MARK: One horizon on one row

    /// One pass over the sorted members: each one's ranks in every series and returns in every horizon, read side by
    /// side, give every series' sample sums (its factor ranks among the sample counted as the pass goes, ties sharing
    /// the average) and every horizon's sample.
    ///
    /// When every member with a return in a series is in the sample (all of them have a factor value), y is also the
    /// return's rank among the sample, and the Rank IC follows from these sums alone.
    private mutating func gatherSeries(base: Int) {
        let n = sortedCount, stride = evaluator.rankBlocks * SampleRankSums.lanes
        evaluator.slotRanks.withUnsafeBufferPointer { ranks in
            sortedSlot.withUnsafeBufferPointer { sortedSlot in
                sortedRank.withUnsafeBufferPointer { sortedRank in
                    sampleSize.withUnsafeMutableBufferPointer { size in
                        sampleRankSquares.withUnsafeMutableBufferPointer { squares in
                            sampleProducts.withUnsafeMutableBufferPointer { products in
                                SampleRankSums.accumulate(records: ranks.baseAddress! + base * stride, blocks: evaluator.rankBlocks,
                                                          seriesCount: evaluator.seriesCount, sortedSlot: sortedSlot.baseAddress!,
                                                          sortedRank: sortedRank.baseAddress!, count: n, size: size.baseAddress!,
                                                          squares: squares.baseAddress!, products: products.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        // Each horizon's sample: the sorted members with a return in it, in factor order.
        let horizons = evaluator.returnRanks.count
        for h in 0..<horizons {
            let w = workspaces[h]
            w.count = 0
            evaluator.slotReturns.withUnsafeBufferPointer { returns in
                let r = returns.baseAddress! + base * horizons + h
                for k in 0..<n {
                    let value = r[Int(sortedSlot[k]) * horizons]
                    if value.isFinite { w.append(sortedSlot[k], sortedValue[k], value) }
                }
            }
        }
    }

    private mutating func horizonRow(_ h: Int, row: Int, slots: Range<Int>) {
        let ranks = evaluator.returnRanks[h]
        let settings = evaluator.settings
        let universe = evaluator.universe
        let w = workspaces[h]
        let base = slots.lowerBound
        let nReturn = ranks.withReturn[row]
        let sorted = sortedCount
        var ic = Double.nan, rankIC = Double.nan
        var reason: String?
        if w.count < settings.minNames {
            reason = "n<min_names"
        } else if !w.factorHasSpread {
            reason = "factor_constant"
        } else if !w.returnsHaveSpread {
            reason = "return_constant"
        } else {
            ic = w.informationCoefficient()
            // When every member with a return has a factor value, the pass's sums give it.
            rankIC = w.count == nReturn
                ? RankICWorkspace.fromDoubledRanks(n: w.count, sxx: sampleRankSquares[h], sxy: sampleProducts[h], syy: ranks.sumOfSquares[row])
                : sampleRankIC(w, ranks, row: row, base: base)
        }
        let sampleSize = w.count
        // Quantile groups on every row with a sample. The sample is ascending by factor, so group g is the run of
        // members after those ≤ e_{g−1} up to those ≤ e_g, and each group's mean return is a sum over a run.
        let q = settings.quantiles
        var bottomEnd = 0, topStart = 0
        groupMean.withUnsafeMutableBufferPointer { means in
            for g in 0..<q { means[g] = .nan }
            guard sampleSize > 0 else { return }
            QuantileEdges.innerEdges(sorted: UnsafeBufferPointer(start: w.factor, count: sampleSize), groups: q, into: &edges)
            var start = 0
            for g in 0..<q {
                var end = start
                if g == q - 1 {
                    end = sampleSize
                } else {
                    let edge = edges[g]
                    while end < sampleSize && !(edge < w.factor[end]) { end += 1 }
                }
                if end > start {
                    var sum = 0.0
                    for k in start..<end { sum += w.returns[k] }
                    means[g] = sum / Double(end - start)
                }
                if g == 0 { bottomEnd = end }
                if g == q - 1 { topStart = start }
                start = end
            }
        }
        let instruments = evaluator.rows.instruments
        let turnover = instruments.withUnsafeBufferPointer { instruments in
            (top: turnoverTop[h].next(first: row == 0, count: sampleSize - topStart) { instruments[base + Int(w.index[topStart + $0])] },
             bottom: turnoverBottom[h].next(first: row == 0, count: bottomEnd) { instruments[base + Int(w.index[$0])] })
        }
        series[h].append(n: sampleSize, ic: ic, rankIC: rankIC, groupMeans: groupMean, turnoverTop: turnover.top,
                         turnoverBottom: turnover.bottom, members: slots.count, nFactor: sorted, nReturn: nReturn, reason: reason)
        if !universe.industryNames.isEmpty && sampleSize > 0 { industryRow(h, w, base: base) }
    }

    /// Whether the values are not all equal (min < max).
    static func hasSpread(_ values: [Double]) -> Bool {
        guard let first = values.first else { return false }
        for v in values where v != first { return true }
        return false
    }

    // MARK: Industry IC

    private mutating func industryRow(_ h: Int, _ w: RankICWorkspace, base: Int) {
        let universe = evaluator.universe
        var byIndustry: [Int: [Int]] = [:]
        for k in 0..<w.count {
            if let g = universe.industry[Int(evaluator.rows.instruments[base + Int(w.index[k])])] { byIndustry[g, default: []].append(k) }
        }
        for (g, ks) in byIndustry where ks.count >= evaluator.settings.minNames {
            let fv = ks.map { w.factor[$0] }, rv = ks.map { w.returns[$0] }
            guard fv.first! < fv.last!, Self.hasSpread(rv) else { continue }
            let ic = Correlation.pearson(fv, rv)
            let rankIC = Correlation.pearson(Ranking.averageRanks(fv), Ranking.averageRanks(rv))
            series[h].addIndustry(g, ic: ic, rankIC: rankIC)
        }
    }

    /// Rank IC of the workspace's sample against `ranks` on this row: the sample is the members with a factor value
    /// and a return, so the members it leaves out of the returns' ranking are those without a factor value.
    private mutating func sampleRankIC(_ w: RankICWorkspace, _ ranks: MemberReturnRanks, row: Int, base: Int) -> Double {
        excludedPlaces.removeAll(keepingCapacity: true)
        for slot in missingSlots {
            let p = ranks.place[base + Int(slot)]
            if p >= 0 { excludedPlaces.append(p) }
        }
        let ranking = ranks.ranking(row: row, base: base)
        return excludedPlaces.withUnsafeBufferPointer { w.rankInformationCoefficient(ranking, excluded: $0) }
    }

    // MARK: Decay

    /// For k = 0…K: Rank IC of f on t against the one-bar return on t+k, over today's members with both valid.
    private mutating func decayRow(row: Int, t: Int, base: Int) {
        let settings = evaluator.settings
        // Lag 0 is exactly the h = 1 Rank IC of this row when h = 1 is evaluated (same sample, same returns) — but
        // not with a custom label, whose series is the label's Rank IC.
        let firstLag: Int
        if evaluator.decayRanks[0] == nil, let h1 = settings.horizons.firstIndex(of: 1) {
            let value = series[h1].rankIC.last ?? .nan
            if value.isFinite { decaySum[0] += value; decayCount[0] += 1 }
            firstLag = 1
        } else {
            firstLag = 0
        }
        guard firstLag <= settings.decayLags else { return }
        let w = workspaces[workspaces.count - 1]
        let minNames = settings.minNames
        let sorted = sortedCount
        for k in firstLag...settings.decayLags {
            guard t + k < length, let ranks = evaluator.decayRanks[k] else { break }
            let series = evaluator.returnRanks.count + k - evaluator.firstDecayLag
            // The sample is the members with a factor value and a return (a non-zero rank); a constant factor or
            // constant returns give no correlation (NaN), as the checks of a horizon's row would.
            let size = sampleSize[series]
            guard size >= minNames else { continue }
            let value: Double
            if size == ranks.withReturn[row] {
                // Every member with a return is in the sample: the pass's sums give it.
                value = RankICWorkspace.fromDoubledRanks(n: size, sxx: sampleRankSquares[series], sxy: sampleProducts[series],
                                                         syy: ranks.sumOfSquares[row])
            } else {
                w.count = 0
                ranks.doubledRank.withUnsafeBufferPointer { y in
                    for p in 0..<sorted where y[base + Int(sortedSlot[p])] != 0 {
                        w.append(sortedSlot[p], sortedValue[p], 0)
                    }
                }
                value = sampleRankIC(w, ranks, row: row, base: base)
            }
            if value.isFinite {
                decaySum[k] += value
                decayCount[k] += 1
            }
        }
    }

    func decayPoints() -> [DecayPoint] {
        (0...evaluator.settings.decayLags).map {
            DecayPoint(lag: $0, rankICMean: decayCount[$0] > 0 ? decaySum[$0] / Double(decayCount[$0]) : .nan, n: decayCount[$0])
        }
    }

    // MARK: Reports

    func horizonReport(_ h: Int) -> HorizonReport {
        let universe = evaluator.universe
        let settings = evaluator.settings
        let s = series[h]
        let dates = universe.window.map { universe.calendar.label($0) }
        let withIC = s.ic.indices.filter { s.ic[$0].isFinite }
        func over(_ x: [Double]) -> [Double] { withIC.map { x[$0] } }
        let horizon = settings.horizons[h]
        var coverage = Coverage()
        for k in 0..<s.n.count {
            coverage.members += s.members[k]
            coverage.withFactor += s.nFactor[k]
            coverage.withReturn += s.nReturn[k]
            coverage.inSample += s.n[k]
            if let reason = s.reason[k] { coverage.rowsWithoutIC[reason, default: 0] += 1 }
        }
        let summary = HorizonSummary(
            ic: SummaryStatistics.informationCoefficient(over(s.ic), neweyWestLags: horizon - 1),
            rankIC: SummaryStatistics.informationCoefficient(over(s.rankIC), neweyWestLags: horizon - 1),
            longShort: SummaryStatistics.longShort(over(s.longShort), periodsPerYear: settings.periodsPerYear),
            turnoverTop: SummaryStatistics.mean(over(s.turnoverTop)),
            turnoverBottom: SummaryStatistics.mean(over(s.turnoverBottom)),
            autocorrelation: SummaryStatistics.mean(over(autocorrelation)),
            groupMeans: s.groups.map { SummaryStatistics.mean(over($0)) },
            rows: s.n.count, rowsWithoutIC: s.n.count - withIC.count, coverage: coverage)
        var months: [(String, [Int])] = []
        for k in withIC {
            let month = String(dates[k].prefix(7))
            if months.last?.0 == month { months[months.count - 1].1.append(k) } else { months.append((month, [k])) }
        }
        let monthly = months.map { month, rows in
            MonthlyIC(month: month, n: rows.count, icMean: SummaryStatistics.mean(rows.map { s.ic[$0] }),
                      rankICMean: SummaryStatistics.mean(rows.map { s.rankIC[$0] }))
        }
        let industries = s.industrySums.keys.sorted().map { g -> IndustryIC in
            let v = s.industrySums[g]!
            return IndustryIC(industry: universe.industryNames[g], rows: v.rows, icMean: v.ic / Double(v.rows),
                              rankICMean: v.rankIC / Double(v.rows))
        }
        let rowSeries = RowSeries(dates: dates, n: s.n, ic: s.ic, rankIC: s.rankIC, longShort: s.longShort,
                                  groups: s.groups.map { NullableNaNArray(wrappedValue: $0) },
                                  turnoverTop: s.turnoverTop, turnoverBottom: s.turnoverBottom,
                                  autocorrelation: autocorrelation, members: s.members, nFactor: s.nFactor,
                                  nReturn: s.nReturn, noICReason: s.reason)
        return HorizonReport(horizon: horizon, summary: summary, series: rowSeries, monthly: monthly, industries: industries)
    }
}

/// The per-row columns of one horizon while a factor is evaluated.
struct HorizonSeries {
    var n: [Int] = []
    var ic: [Double] = []
    var rankIC: [Double] = []
    var longShort: [Double] = []
    var groups: [[Double]]
    var turnoverTop: [Double] = []
    var turnoverBottom: [Double] = []
    var members: [Int] = []
    var nFactor: [Int] = []
    var nReturn: [Int] = []
    var reason: [String?] = []
    var industrySums: [Int: (ic: Double, rankIC: Double, rows: Int)] = [:]

    init(quantiles: Int, rows: Int) {
        groups = Array(repeating: [], count: quantiles)
        n.reserveCapacity(rows); ic.reserveCapacity(rows); rankIC.reserveCapacity(rows); longShort.reserveCapacity(rows)
        for k in groups.indices { groups[k].reserveCapacity(rows) }
        turnoverTop.reserveCapacity(rows); turnoverBottom.reserveCapacity(rows)
        members.reserveCapacity(rows); nFactor.reserveCapacity(rows); nReturn.reserveCapacity(rows); reason.reserveCapacity(rows)
    }

    mutating func append(n: Int, ic: Double, rankIC: Double, groupMeans: [Double], turnoverTop: Double, turnoverBottom: Double,
                         members: Int, nFactor: Int, nReturn: Int, reason: String?) {
        self.n.append(n)
        self.ic.append(ic)
        self.rankIC.append(rankIC)
        let q = groupMeans.count
        longShort.append(groupMeans[q - 1] - groupMeans[0])  // NaN when either group is empty
        for k in 0..<q { groups[k].append(groupMeans[k]) }
        self.turnoverTop.append(turnoverTop)
        self.turnoverBottom.append(turnoverBottom)
        self.members.append(members)
        self.nFactor.append(nFactor)
        self.nReturn.append(nReturn)
        self.reason.append(reason)
    }

    mutating func addIndustry(_ g: Int, ic: Double, rankIC: Double) {
        let s = industrySums[g] ?? (0, 0, 0)
        industrySums[g] = (s.ic + ic, s.rankIC + rankIC, s.rows + 1)
    }
}

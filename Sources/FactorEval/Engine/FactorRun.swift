import FactorCore

/// The row-by-row evaluation of one factor: every per-row figure of `spec/evaluation.md` for every horizon,
/// the rank autocorrelation and the decay sums. Scratch buffers are reused across rows.
struct FactorRun {
    let evaluator: FactorEvaluator
    let factor: [Double]
    let length: Int
    let count: Int

    // Per-row series, per horizon.
    var series: [HorizonSeries]
    var autocorrelation: [Double] = []
    var decaySum: [Double]
    var decayCount: [Int]

    // Scratch.
    private var sortedF: [Int32] = []
    private var rank: [Double]
    private var previousRank: [Double]
    private var rankedNow: [Int32] = []
    private var rankedBefore: [Int32] = []
    private var inSample: [Bool]
    private var returnRank: [Double]
    private var sIdx: [Int32] = []
    private var fVals: [Double] = []
    private var rVals: [Double] = []
    private var fRanks: [Double] = []
    private var rRanks: [Double] = []
    private var edges: [Double] = []

    init(evaluator: FactorEvaluator, factor: [Double]) {
        self.evaluator = evaluator
        self.factor = factor
        length = evaluator.universe.calendar.count
        count = evaluator.universe.instruments.count
        let q = evaluator.settings.quantiles
        series = evaluator.returns.map { _ in HorizonSeries(quantiles: q, instruments: evaluator.universe.instruments.count) }
        decaySum = Array(repeating: 0, count: evaluator.settings.decayLags + 1)
        decayCount = Array(repeating: 0, count: evaluator.settings.decayLags + 1)
        rank = Array(repeating: .nan, count: count)
        previousRank = Array(repeating: .nan, count: count)
        inSample = Array(repeating: false, count: count)
        returnRank = Array(repeating: .nan, count: count)
    }

    @inline(__always)
    private func f(_ i: Int, _ t: Int) -> Double { factor[i * length + t] }

    mutating func execute() {
        let universe = evaluator.universe
        for (row, t) in universe.window.enumerated() {
            // Members with a valid factor, ascending by factor value.
            sortedF.removeAll(keepingCapacity: true)
            var members = 0
            for i in 0..<count where universe.isMember(i, t) {
                members += 1
                if f(i, t).isFinite { sortedF.append(Int32(i)) }
            }
            let fac = factor, len = length
            sortedF.sort { fac[Int($0) * len + t] < fac[Int($1) * len + t] }
            rankAutocorrelation(row: row, t: t)
            for h in 0..<evaluator.returns.count {
                horizonRow(h, row: row, t: t, members: members)
            }
            decayRow(t: t)
        }
    }

    // MARK: Rank autocorrelation

    /// Average ranks of f among today's members with a valid factor, correlated with yesterday's ranks over the
    /// instruments ranked on both rows (ranks are not recomputed on that intersection).
    private mutating func rankAutocorrelation(row: Int, t: Int) {
        for i in rankedBefore { previousRank[Int(i)] = .nan }
        swap(&previousRank, &rank)
        swap(&rankedBefore, &rankedNow)
        rankedNow.removeAll(keepingCapacity: true)
        var k = 0
        while k < sortedF.count {
            var j = k + 1
            let v = f(Int(sortedF[k]), t)
            while j < sortedF.count && f(Int(sortedF[j]), t) == v { j += 1 }
            let r = Double(k + 1 + j) / 2
            for m in k..<j { rank[Int(sortedF[m])] = r; rankedNow.append(sortedF[m]) }
            k = j
        }
        guard row > 0 else { autocorrelation.append(.nan); return }
        fVals.removeAll(keepingCapacity: true)
        rVals.removeAll(keepingCapacity: true)
        for i in rankedNow where previousRank[Int(i)].isFinite {
            fVals.append(rank[Int(i)])
            rVals.append(previousRank[Int(i)])
        }
        autocorrelation.append(fVals.count < 2 ? .nan : Correlation.pearson(fVals, rVals))
    }

    // MARK: One horizon on one row

    private mutating func horizonRow(_ h: Int, row: Int, t: Int, members: Int) {
        let returns = evaluator.returns[h]
        let settings = evaluator.settings
        var nReturn = 0
        for i in 0..<count where evaluator.universe.isMember(i, t) && returns.value(i, t).isFinite { nReturn += 1 }
        // The sample, ascending by factor.
        sIdx.removeAll(keepingCapacity: true)
        fVals.removeAll(keepingCapacity: true)
        rVals.removeAll(keepingCapacity: true)
        for i32 in sortedF {
            let i = Int(i32)
            let r = returns.value(i, t)
            if r.isFinite { sIdx.append(i32); fVals.append(f(i, t)); rVals.append(r) }
        }
        let n = sIdx.count
        var ic = Double.nan, rankIC = Double.nan
        var reason: String?
        if n < settings.minNames {
            reason = "n<min_names"
        } else if !(fVals[0] < fVals[n - 1]) {
            reason = "factor_constant"
        } else if !(rVals.min()! < rVals.max()!) {
            reason = "return_constant"
        } else {
            ic = Correlation.pearson(fVals, rVals)
            rankIC = sampleRankIC(returns: returns, t: t)
        }
        // Quantile groups on every row with a sample.
        let q = settings.quantiles
        var groupSum = [Double](repeating: 0, count: q), groupCount = [Int](repeating: 0, count: q)
        var top: [Int32] = [], bottom: [Int32] = []
        if n > 0 {
            fVals.withUnsafeBufferPointer { QuantileEdges.innerEdges(sorted: $0, groups: q, into: &edges) }
            var g = 1
            for k in 0..<n {
                while g < q && edges[g - 1] < fVals[k] { g += 1 }
                groupSum[g - 1] += rVals[k]
                groupCount[g - 1] += 1
                if g == q { top.append(sIdx[k]) }
                if g == 1 { bottom.append(sIdx[k]) }
            }
        }
        let means = (0..<q).map { groupCount[$0] > 0 ? groupSum[$0] / Double(groupCount[$0]) : .nan }
        series[h].append(n: n, ic: ic, rankIC: rankIC, groupMeans: means, top: top, bottom: bottom, first: row == 0,
                         members: members, nFactor: sortedF.count, nReturn: nReturn, reason: reason)
        if !evaluator.universe.industryNames.isEmpty && n > 0 { industryRow(h, t: t) }
    }

    /// Rank IC of the current sample (`sIdx`, `fVals` ascending, `rVals`): average ranks of f from the sorted
    /// factor order, of r from the shared per-row return order filtered to the sample.
    private mutating func sampleRankIC(returns: ForwardReturns, t: Int) -> Double {
        averageRanks(sorted: fVals, into: &fRanks)
        for i in sIdx { inSample[Int(i)] = true }
        assignReturnRanks(order: returns.order(t), returns: returns, t: t)
        rRanks.removeAll(keepingCapacity: true)
        for i in sIdx { rRanks.append(returnRank[Int(i)]); inSample[Int(i)] = false }
        return Correlation.pearson(fRanks, rRanks)
    }

    /// Average ranks, within the instruments flagged in `inSample`, following `order` (ascending returns).
    private mutating func assignReturnRanks(order: [Int32], returns: ForwardReturns, t: Int) {
        var position = 0
        var k = 0
        let filtered = order.filter { inSample[Int($0)] }
        while k < filtered.count {
            let v = returns.value(Int(filtered[k]), t)
            var j = k + 1
            while j < filtered.count && returns.value(Int(filtered[j]), t) == v { j += 1 }
            let r = Double(position + 1 + position + (j - k)) / 2
            for m in k..<j { returnRank[Int(filtered[m])] = r }
            position += j - k
            k = j
        }
    }

    private func averageRanks(sorted values: [Double], into ranks: inout [Double]) {
        ranks.removeAll(keepingCapacity: true)
        var k = 0
        while k < values.count {
            var j = k + 1
            while j < values.count && values[j] == values[k] { j += 1 }
            let r = Double(k + 1 + j) / 2
            for _ in k..<j { ranks.append(r) }
            k = j
        }
    }

    // MARK: Industry IC

    private mutating func industryRow(_ h: Int, t: Int) {
        let universe = evaluator.universe
        var byIndustry: [Int: [Int]] = [:]
        for (k, i) in sIdx.enumerated() {
            if let g = universe.industry[Int(i)] { byIndustry[g, default: []].append(k) }
        }
        for (g, ks) in byIndustry where ks.count >= evaluator.settings.minNames {
            let fv = ks.map { fVals[$0] }, rv = ks.map { rVals[$0] }
            guard fv.first! < fv.last!, rv.min()! < rv.max()! else { continue }
            let ic = Correlation.pearson(fv, rv)
            let rankIC = Correlation.pearson(Ranking.averageRanks(fv), Ranking.averageRanks(rv))
            series[h].addIndustry(g, ic: ic, rankIC: rankIC)
        }
    }

    // MARK: Decay

    /// For k = 0…K: Rank IC of f on t against the one-bar return on t+k, over today's members with both valid.
    private mutating func decayRow(t: Int) {
        let oneBar = evaluator.oneBar
        let settings = evaluator.settings
        for k in 0...settings.decayLags {
            let s = t + k
            guard s < length else { break }
            sIdx.removeAll(keepingCapacity: true)
            fVals.removeAll(keepingCapacity: true)
            rVals.removeAll(keepingCapacity: true)
            for i32 in sortedF {
                let r = oneBar.value(Int(i32), s)
                if r.isFinite { sIdx.append(i32); fVals.append(f(Int(i32), t)); rVals.append(r) }
            }
            let n = sIdx.count
            guard n >= settings.minNames, fVals[0] < fVals[n - 1], rVals.min()! < rVals.max()! else { continue }
            let value = sampleRankIC(returns: oneBar, t: s)
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

/// The per-row columns of one horizon while a factor is evaluated, plus the previous row's extreme groups.
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
    private var previousTop: [Bool]
    private var previousBottom: [Bool]
    private var previousTopList: [Int32] = []
    private var previousBottomList: [Int32] = []

    init(quantiles: Int, instruments: Int) {
        groups = Array(repeating: [], count: quantiles)
        previousTop = Array(repeating: false, count: instruments)
        previousBottom = Array(repeating: false, count: instruments)
    }

    mutating func append(n: Int, ic: Double, rankIC: Double, groupMeans: [Double], top: [Int32], bottom: [Int32],
                         first: Bool, members: Int, nFactor: Int, nReturn: Int, reason: String?) {
        self.n.append(n)
        self.ic.append(ic)
        self.rankIC.append(rankIC)
        let q = groupMeans.count
        longShort.append(groupMeans[q - 1] - groupMeans[0])  // NaN when either group is empty
        for k in 0..<q { groups[k].append(groupMeans[k]) }
        turnoverTop.append(first ? .nan : Self.turnover(top, previous: previousTop, previousCount: previousTopList.count))
        turnoverBottom.append(first ? .nan : Self.turnover(bottom, previous: previousBottom, previousCount: previousBottomList.count))
        Self.replace(&previousTop, &previousTopList, with: top)
        Self.replace(&previousBottom, &previousBottomList, with: bottom)
        self.members.append(members)
        self.nFactor.append(nFactor)
        self.nReturn.append(nReturn)
        self.reason.append(reason)
    }

    mutating func addIndustry(_ g: Int, ic: Double, rankIC: Double) {
        let s = industrySums[g] ?? (0, 0, 0)
        industrySums[g] = (s.ic + ic, s.rankIC + rankIC, s.rows + 1)
    }

    /// |S_t \ S_{t−1}| / |S_t|; NaN when either group is empty.
    private static func turnover(_ now: [Int32], previous: [Bool], previousCount: Int) -> Double {
        if now.isEmpty || previousCount == 0 { return .nan }
        var entered = 0
        for i in now where !previous[Int(i)] { entered += 1 }
        return Double(entered) / Double(now.count)
    }

    private static func replace(_ flags: inout [Bool], _ list: inout [Int32], with now: [Int32]) {
        for i in list { flags[Int(i)] = false }
        for i in now { flags[Int(i)] = true }
        list = now
    }
}

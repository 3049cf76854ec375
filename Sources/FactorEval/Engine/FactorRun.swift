import FactorCore

/// The row-by-row evaluation of one factor: every per-row figure of `spec/evaluation.md` for every horizon,
/// the rank autocorrelation and the decay sums. Scratch buffers are reused across rows.
struct FactorRun {
    let evaluator: FactorEvaluator
    /// Instrument-major, as evaluated; each row's members are gathered into `rowFactor` when the row is reached.
    let factor: [Double]
    let length: Int
    let count: Int

    // Per-row series, per horizon.
    var series: [HorizonSeries]
    var autocorrelation: [Double] = []
    var decaySum: [Double]
    var decayCount: [Int]

    // Scratch.
    private let workspace: RankICWorkspace
    private var sortedF: [Int32] = []
    private var rank: [Double]
    private var previousRank: [Double]
    private var rankedNow: [Int32] = []
    private var rankedBefore: [Int32] = []
    private var fVals: [Double] = []
    private var rVals: [Double] = []
    private var edges: [Double] = []
    /// The current row's factor value per instrument (only members' slots are current).
    private var rowFactor: [Double]
    private var groupSum: [Double]
    private var groupCount: [Int]
    private var groupMean: [Double]
    private var top: [Int32] = []
    private var bottom: [Int32] = []

    init(evaluator: FactorEvaluator, factor: [Double]) {
        self.evaluator = evaluator
        length = evaluator.universe.calendar.count
        count = evaluator.universe.instruments.count
        self.factor = factor
        rowFactor = Array(repeating: .nan, count: count)
        let q = evaluator.settings.quantiles
        groupSum = Array(repeating: 0, count: q)
        groupCount = Array(repeating: 0, count: q)
        groupMean = Array(repeating: .nan, count: q)
        series = evaluator.returns.map { _ in HorizonSeries(quantiles: q, instruments: evaluator.universe.instruments.count) }
        workspace = RankICWorkspace(instruments: evaluator.universe.instruments.count)
        decaySum = Array(repeating: 0, count: evaluator.settings.decayLags + 1)
        decayCount = Array(repeating: 0, count: evaluator.settings.decayLags + 1)
        rank = Array(repeating: .nan, count: count)
        previousRank = Array(repeating: .nan, count: count)
    }

    /// The current row's value of instrument i (a member).
    @inline(__always)
    private func f(_ i: Int) -> Double { rowFactor[i] }

    mutating func execute() {
        let universe = evaluator.universe
        for (row, t) in universe.window.enumerated() {
            // Members with a valid factor, ascending by factor value.
            sortedF.removeAll(keepingCapacity: true)
            let members = evaluator.members[t]
            factor.withUnsafeBufferPointer { fac in
                rowFactor.withUnsafeMutableBufferPointer { row in
                    for i32 in members {
                        let i = Int(i32), v = fac[i * length + t]
                        row[i] = v
                        if v.isFinite { sortedF.append(i32) }
                    }
                }
            }
            rowFactor.withUnsafeBufferPointer { row in
                sortedF.sort { row[Int($0)] < row[Int($1)] }
            }
            rankAutocorrelation(row: row, t: t)
            for h in 0..<evaluator.returns.count {
                horizonRow(h, row: row, t: t, members: members.count)
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
            let v = f(Int(sortedF[k]))
            while j < sortedF.count && f(Int(sortedF[j])) == v { j += 1 }
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
        let universe = evaluator.universe
        let w = workspace
        let n = returns.instruments
        let nReturn = evaluator.membersWithReturn[h][t]
        var ic = Double.nan, rankIC = Double.nan
        var reason: String?
        returns.byRow.withUnsafeBufferPointer { byRow in
            let rRow = byRow.baseAddress! + t * n
            // The sample, ascending by factor.
            w.count = 0
            rowFactor.withUnsafeBufferPointer { fac in
                let fRow = fac.baseAddress!
                for i32 in sortedF {
                    let r = rRow[Int(i32)]
                    if r.isFinite { w.append(i32, fRow[Int(i32)], r) }
                }
            }
            if w.count < settings.minNames {
                reason = "n<min_names"
            } else if !w.factorHasSpread {
                reason = "factor_constant"
            } else if !w.returnsHaveSpread {
                reason = "return_constant"
            } else {
                ic = w.informationCoefficient()
                rankIC = returns.ranking(t).map { w.rankInformationCoefficient($0) } ?? .nan
            }
        }
        let sampleSize = w.count
        // Quantile groups on every row with a sample.
        let q = settings.quantiles
        for g in 0..<q { groupSum[g] = 0; groupCount[g] = 0 }
        top.removeAll(keepingCapacity: true)
        bottom.removeAll(keepingCapacity: true)
        if sampleSize > 0 {
            QuantileEdges.innerEdges(sorted: UnsafeBufferPointer(start: w.factor, count: sampleSize), groups: q, into: &edges)
            var g = 1
            for k in 0..<sampleSize {
                while g < q && edges[g - 1] < w.factor[k] { g += 1 }
                groupSum[g - 1] += w.returns[k]
                groupCount[g - 1] += 1
                if g == q { top.append(w.index[k]) }
                if g == 1 { bottom.append(w.index[k]) }
            }
        }
        for g in 0..<q { groupMean[g] = groupCount[g] > 0 ? groupSum[g] / Double(groupCount[g]) : .nan }
        series[h].append(n: sampleSize, ic: ic, rankIC: rankIC, groupMeans: groupMean, top: top, bottom: bottom, first: row == 0,
                         members: members, nFactor: sortedF.count, nReturn: nReturn, reason: reason)
        if !universe.industryNames.isEmpty && sampleSize > 0 { industryRow(h) }
    }

    /// Whether the values are not all equal (min < max).
    static func hasSpread(_ values: [Double]) -> Bool {
        guard let first = values.first else { return false }
        for v in values where v != first { return true }
        return false
    }

    // MARK: Industry IC

    private mutating func industryRow(_ h: Int) {
        let universe = evaluator.universe
        let w = workspace
        var byIndustry: [Int: [Int]] = [:]
        for k in 0..<w.count {
            if let g = universe.industry[Int(w.index[k])] { byIndustry[g, default: []].append(k) }
        }
        for (g, ks) in byIndustry where ks.count >= evaluator.settings.minNames {
            let fv = ks.map { w.factor[$0] }, rv = ks.map { w.returns[$0] }
            guard fv.first! < fv.last!, Self.hasSpread(rv) else { continue }
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
        // Lag 0 is exactly the h = 1 Rank IC of this row when h = 1 is evaluated (same sample, same returns) — but
        // not with a custom label, whose series is the label's Rank IC.
        let firstLag: Int
        if !evaluator.hasCustomLabel, let h1 = settings.horizons.firstIndex(of: 1) {
            let value = series[h1].rankIC.last ?? .nan
            if value.isFinite { decaySum[0] += value; decayCount[0] += 1 }
            firstLag = 1
        } else {
            firstLag = 0
        }
        guard firstLag <= settings.decayLags else { return }
        let w = workspace
        let n = oneBar.instruments
        let minNames = settings.minNames
        rowFactor.withUnsafeBufferPointer { fac in
            sortedF.withUnsafeBufferPointer { sorted in
                oneBar.byRow.withUnsafeBufferPointer { returns in
                    let fRow = fac.baseAddress!
                    for k in firstLag...settings.decayLags {
                        let s = t + k
                        guard s < length else { break }
                        let rRow = returns.baseAddress! + s * n
                        w.count = 0
                        for i32 in sorted {
                            let r = rRow[Int(i32)]
                            if r.isFinite { w.append(i32, fRow[Int(i32)], r) }
                        }
                        guard w.count >= minNames, w.factorHasSpread, w.returnsHaveSpread else { continue }
                        let value = oneBar.ranking(s).map { w.rankInformationCoefficient($0) } ?? .nan
                        if value.isFinite {
                            decaySum[k] += value
                            decayCount[k] += 1
                        }
                    }
                }
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

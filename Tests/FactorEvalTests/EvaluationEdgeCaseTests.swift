import FactorCore
@testable import FactorEval
import Foundation
import Testing

/// A hand-made universe: closes[i][t], factor[i][t], members[i] = member rows.
func makeUniverse(closes: [[Double]], members: [Range<Int>]? = nil, window: Range<Int>? = nil) -> EvaluationUniverse {
    let n = closes.count, length = closes[0].count
    let calendar = MarketCalendar(times: (0..<length).map { Timestamp(86_400 * (18_262 + $0)) }, frequency: .day)
    var mask = [Bool](repeating: false, count: n * length)
    for i in 0..<n { for t in (members?[i] ?? 0..<length) { mask[i * length + t] = true } }
    return EvaluationUniverse(instruments: (0..<n).map { "SH60000\($0)" }, calendar: calendar, window: window ?? 0..<length,
                              member: mask, close: Panel(instrumentCount: n, length: length, values: closes.flatMap { $0 }))
}

func factorPanel(_ rows: [[Double]]) -> Panel {
    Panel(instrumentCount: rows.count, length: rows[0].count, values: rows.flatMap { $0 })
}

/// Closes that produce the given one-bar returns with delay 0: c[t+1] = c[t]·(1 + r[t]).
func closes(returns: [Double]) -> [Double] {
    var c = [100.0]
    for r in returns { c.append(c.last! * (1 + r)) }
    return c
}

@Suite("Evaluation edge cases on hand-made data")
struct EvaluationEdgeCaseTests {
    func settings(_ h: [Int] = [1], delay: Int = 0, q: Int = 5) -> EvaluationSettings {
        EvaluationSettings(horizons: h, delay: delay, quantiles: q, minNames: 2, decayLags: 1)
    }

    @Test func icAndRankICOnATinyCrossSection() throws {
        // Row 0: f = 1, 2, 3; returns 0.1, 0.3, 0.2.
        let u = makeUniverse(closes: [closes(returns: [0.1, 0]), closes(returns: [0.3, 0]), closes(returns: [0.2, 0])], window: 0..<1)
        let f = factorPanel([[1, 0, 0], [2, 0, 0], [3, 0, 0]])
        let report = try FactorEvaluator(universe: u, settings: settings(q: 3)).evaluate(name: "f", factor: f)
        let s = report.horizons[0].series
        let expectedIC = Correlation.pearson([1, 2, 3], [0.1, 0.3, 0.2])
        #expect(abs(s.ic[0] - expectedIC) < 1e-12)
        #expect(abs(s.rankIC[0] - 0.5) < 1e-12)
        #expect(s.n[0] == 3)
        // Q = 3: one name per group.
        #expect(s.groups.map { $0.wrappedValue[0] }.enumerated().allSatisfy { abs($1 - [0.1, 0.3, 0.2][$0]) < 1e-12 })
        #expect(abs(s.longShort[0] - 0.1) < 1e-12)
    }

    @Test func rowWithOneValidNameHasNoICButAGroup() throws {
        let u = makeUniverse(closes: [closes(returns: [0.1, 0]), closes(returns: [0.3, 0])], window: 0..<1)
        let f = factorPanel([[1, 0, 0], [.nan, 0, 0]])
        let s = try FactorEvaluator(universe: u, settings: settings()).evaluate(name: "f", factor: f).horizons[0].series
        #expect(s.n[0] == 1)
        #expect(s.ic[0].isNaN && s.rankIC[0].isNaN)
        #expect(s.noICReason[0] == "n<min_names")
        #expect(abs(s.groups[0].wrappedValue[0] - 0.1) < 1e-12)
        #expect(s.groups[4].wrappedValue[0].isNaN && s.longShort[0].isNaN)
        #expect(s.members[0] == 2 && s.nFactor[0] == 1 && s.nReturn[0] == 2)
    }

    @Test func constantFactorHasNoICAndOneGroup() throws {
        let u = makeUniverse(closes: (0..<4).map { closes(returns: [0.01 * Double($0), 0]) }, window: 0..<1)
        let f = factorPanel(Array(repeating: [7, 7, 7], count: 4))
        let s = try FactorEvaluator(universe: u, settings: settings()).evaluate(name: "f", factor: f).horizons[0].series
        #expect(s.noICReason[0] == "factor_constant")
        #expect(abs(s.groups[0].wrappedValue[0] - 0.015) < 1e-12)  // every name on edge e_0 = … = e_5: group 1
        #expect((1..<5).allSatisfy { s.groups[$0].wrappedValue[0].isNaN })
        let flat = makeUniverse(closes: (0..<4).map { _ in closes(returns: [0.02, 0]) }, window: 0..<1)
        let g = factorPanel((0..<4).map { [Double($0), 0, 0] })
        #expect(try FactorEvaluator(universe: flat, settings: settings()).evaluate(name: "g", factor: g).horizons[0].series.noICReason[0] == "return_constant")
    }

    @Test func tiesAcrossAQuantileEdgeLeaveAGroupEmpty() throws {
        // f = 1, 2, 2, 3, 4 → inner edges 1.8, 2, 2.4, 3.2 (numpy linear) → groups 1, 2, 2, 4, 5; group 3 is empty.
        let r = [0.1, 0.2, 0.4, 0.3, 0.5]
        let u = makeUniverse(closes: r.map { closes(returns: [$0, 0]) }, window: 0..<1)
        let f = factorPanel([[1, 0, 0], [2, 0, 0], [2, 0, 0], [3, 0, 0], [4, 0, 0]])
        let s = try FactorEvaluator(universe: u, settings: settings()).evaluate(name: "f", factor: f).horizons[0].series
        let groups = s.groups.map { $0.wrappedValue[0] }
        #expect(abs(groups[0] - 0.1) < 1e-12 && abs(groups[1] - 0.3) < 1e-12 && groups[2].isNaN)
        #expect(abs(groups[3] - 0.3) < 1e-12 && abs(groups[4] - 0.5) < 1e-12)
        #expect(abs(s.longShort[0] - 0.4) < 1e-12)
        // Rank IC with tied factor ranks (1, 2.5, 2.5, 4, 5) against return ranks (1, 2, 4, 3, 5).
        #expect(abs(s.rankIC[0] - Correlation.pearson([1, 2.5, 2.5, 4, 5], [1, 2, 4, 3, 5])) < 1e-12)
    }

    @Test func membershipChangesDriveSampleTurnoverAndAutocorrelation() throws {
        // Four names over three rows; name 3 joins on row 1, name 0 leaves after row 1. Q = 2.
        let returns: [[Double]] = [[0.1, 0.2, 0.3, 0], [0.2, 0.1, 0.0, 0], [0.3, 0.3, 0.1, 0], [0.4, 0.0, 0.2, 0]]
        let u = makeUniverse(closes: returns.map { closes(returns: $0) }, members: [0..<2, 0..<5, 0..<5, 1..<5], window: 0..<3)
        let f = factorPanel([[1, 1, 1, 0, 0], [2, 4, 2, 0, 0], [3, 2, 4, 0, 0], [9, 3, 3, 0, 0]])
        let report = try FactorEvaluator(universe: u, settings: settings(q: 2)).evaluate(name: "f", factor: f)
        let s = report.horizons[0].series
        #expect(s.members == [3, 4, 3])
        #expect(s.n == [3, 4, 3])
        // Row 0: f 1, 2, 3 → top group {2} (edge 2 → values ≤ 2 in group 1). Row 1: f 1, 4, 2, 3 → edge 2.5 → top {1, 3}.
        #expect(s.turnoverTop[0].isNaN)
        #expect(abs(s.turnoverTop[1] - 1.0) < 1e-12)  // neither 1 nor 3 was on top on row 0
        #expect(abs(s.turnoverBottom[1] - 0.5) < 1e-12)  // bottom {0, 2}: 0 was there, 2 was not
        // Row 2: members 1, 2, 3 with f 2, 4, 3 → ranks 1, 3, 2; row 1 ranks of them: 4, 2, 3 among 4 names → 4, 2, 3.
        #expect(abs(s.autocorrelation[2] - Correlation.pearson([1, 3, 2], [4, 2, 3])) < 1e-12)
        #expect(s.autocorrelation[0].isNaN)
    }

    @Test func suspensionInsideTheHorizonAndHorizonPastTheEnd() throws {
        // h = 2, delay 1: r[t] = c[t+3] / c[t+1] − 1. Name 1 is suspended (NaN close) on row 3.
        var c1 = closes(returns: [0.1, 0.1, 0.1, 0.1, 0.1])
        c1[3] = .nan
        let u = makeUniverse(closes: [closes(returns: [0.1, 0.2, 0.3, 0.4, 0.5]), c1, closes(returns: [0.0, 0.1, 0.0, 0.1, 0.0])])
        let f = factorPanel((0..<3).map { i in (0..<6).map { Double(i + $0) } })
        let s = try FactorEvaluator(universe: u, settings: settings([2], delay: 1)).evaluate(name: "f", factor: f).horizons[0].series
        // Rows 0 and 2 need c[3] of name 1 (exit on row 0, entry on row 2): name 1 leaves those samples.
        #expect(s.nReturn == [2, 3, 2, 0, 0, 0])
        #expect(s.n == [2, 3, 2, 0, 0, 0])
        // From row 3 on, t + 3 is past the last row: no returns, no IC.
        #expect(s.noICReason[3] == "n<min_names" && s.noICReason[5] == "n<min_names")
        #expect(abs(s.ic[1] - Correlation.pearson([1, 2, 3], [1.3 * 1.4 - 1, 1.1 * 1.1 - 1, 1.0 * 1.1 - 1])) < 1e-12)
        let report = try FactorEvaluator(universe: u, settings: settings([2], delay: 1)).evaluate(name: "f", factor: f)
        #expect(report.horizons[0].summary.rowsWithoutIC == 3)
    }

    @Test func summaryFormulas() {
        // Newey-West with lag 1 (h = 2): γ0, γ1 by hand.
        let x = [0.1, -0.05, 0.2, 0.0, 0.15]
        let m = x.reduce(0, +) / 5, e = x.map { $0 - m }
        let g0 = e.map { $0 * $0 }.reduce(0, +) / 5
        var g1 = 0.0
        for t in 1..<5 { g1 += e[t] * e[t - 1] }
        g1 /= 5
        let expected = m / ((g0 + 2 * 0.5 * g1) / 5).squareRoot()
        #expect(abs(SummaryStatistics.neweyWestT(x, lags: 1) - expected) < 1e-12)
        // With no lag it is the plain t times √(n/(n−1)).
        let plain = SummaryStatistics.informationCoefficient(x, neweyWestLags: 0)
        #expect(abs(plain.neweyWestT - plain.t * (5.0 / 4).squareRoot()) < 1e-12)
        #expect(abs(plain.positive - 0.6) < 1e-12)
        // Drawdown counts starting wealth 1 as a peak.
        let ls = SummaryStatistics.longShort([0.1, -0.2, 0.1], periodsPerYear: 252)
        #expect(abs(ls.maxDrawdown - (0.88 / 1.1 - 1)) < 1e-12)
        #expect(abs(ls.cumulativeReturn - (1.1 * 0.8 * 1.1 - 1)) < 1e-12)
        #expect(abs(SummaryStatistics.longShort([-0.1, 0.05], periodsPerYear: 12).maxDrawdown - (-0.1)) < 1e-12)
    }

    @Test func preprocessing() throws {
        let u = makeUniverse(closes: (0..<5).map { closes(returns: [0.01 * Double($0), 0]) }, window: 0..<1)
        let pre = Preprocessor(settings: Preprocessing(winsorize: .mad(1)), universe: u)
        // Values 1, 2, 3, 4, 100: median 3, MAD 1 → clip to 3 ± 1.4826.
        let out = pre.apply([1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0, 100, 0, 0])
        #expect(abs(out[12] - (3 + 1.4826)) < 1e-12 && abs(out[0] - (3 - 1.4826)) < 1e-12 && out[6] == 3)
        var industry = u
        industry.industry = [0, 0, 1, 1, nil]
        industry.industryNames = ["A", "B"]
        let neutral = Preprocessor(settings: Preprocessing(neutralizeIndustry: true), universe: industry)
            .apply([1, 0, 0, 3, 0, 0, 10, 0, 0, 20, 0, 0, 7, 0, 0])
        #expect(neutral[0] == -1 && neutral[3] == 1 && neutral[6] == -5 && neutral[9] == 5 && neutral[12] == 0)
        let z = Preprocessor(settings: Preprocessing(zscore: true), universe: u).apply([1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0, 5, 0, 0])
        #expect(abs(z[0] + 2 / 2.5.squareRoot()) < 1e-12)
    }

    /// OLS residuals of y on the columns of x, by the normal equations and Gaussian elimination (an independent route
    /// to the preprocessor's within-group demeaning).
    static func olsResiduals(_ y: [Double], _ x: [[Double]]) -> [Double] {
        let p = x.count
        func dot(_ u: [Double], _ v: [Double]) -> Double {
            var total = 0.0
            for k in u.indices { total += u[k] * v[k] }
            return total
        }
        var a: [[Double]] = []
        for i in 0..<p {
            var row: [Double] = []
            for j in 0..<p { row.append(dot(x[i], x[j])) }
            row.append(dot(x[i], y))
            a.append(row)
        }
        for c in 0..<p {
            let pivot = (c..<p).max { abs(a[$0][c]) < abs(a[$1][c]) }!
            a.swapAt(c, pivot)
            for r in 0..<p where r != c {
                let f = a[r][c] / a[c][c]
                for k in c...p { a[r][k] -= f * a[c][k] }
            }
        }
        let beta = (0..<p).map { a[$0][p] / a[$0][$0] }
        var residuals: [Double] = []
        for i in y.indices {
            var fitted = 0.0
            for j in 0..<p { fitted += beta[j] * x[j][i] }
            residuals.append(y[i] - fitted)
        }
        return residuals
    }

    @Test func sizeNeutralizationIsTheOLSResidualOnIndustryDummiesAndLogSize() throws {
        let f = [0.3, -0.1, 0.8, 1.5, 0.2, -0.7, 0.4]
        let sizes = [2.0, 5.0, 9.0, 1.5, 30.0, 12.0, .nan]  // the last name has no market value
        var u = makeUniverse(closes: f.indices.map { _ in closes(returns: [0.01, 0]) }, window: 0..<1)
        u.industry = [0, 0, 0, 1, 1, 1, 1]
        u.industryNames = ["A", "B"]
        u.logSize = sizes.flatMap { (v: Double) -> [Double] in [log(v), .nan, .nan] }
        let panel = f.flatMap { (v: Double) -> [Double] in [v, 0, 0] }
        let logs = sizes.prefix(6).map { log($0) }
        let both = Preprocessor(settings: Preprocessing(neutralizeIndustry: true, sizeExpression: "$mv"), universe: u).apply(panel)
        let expectedBoth = Self.olsResiduals(Array(f.prefix(6)), [[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], logs])
        for i in 0..<6 { #expect(abs(both[i * 3] - expectedBoth[i]) < 1e-12, "industry+size, name \(i)") }
        #expect(both[18].isNaN)
        let sizeOnly = Preprocessor(settings: Preprocessing(sizeExpression: "$mv"), universe: u).apply(panel)
        let expectedSize = Self.olsResiduals(Array(f.prefix(6)), [[1, 1, 1, 1, 1, 1], logs])
        for i in 0..<6 { #expect(abs(sizeOnly[i * 3] - expectedSize[i]) < 1e-12, "size only, name \(i)") }
    }

    @Test func jsonWritesNaNAsNull() throws {
        let u = makeUniverse(closes: [closes(returns: [0.1, 0]), closes(returns: [0.3, 0])], window: 0..<1)
        let report = try FactorEvaluator(universe: u, settings: settings()).evaluate(name: "f", factor: factorPanel([[1, 0, 0], [.nan, 0, 0]]))
        let full = EvaluationReport(settings: settings(), universe: "test", frequency: "day", start: "a", end: "b", instruments: 2, factors: [report])
        let text = String(decoding: try ReportTables.json(full), as: UTF8.self)
        #expect(text.contains("\"ic\":[null]"))
        let decoded = try JSONDecoder().decode(EvaluationReport.self, from: Data(text.utf8))
        #expect(decoded.factors[0].horizons[0].series.ic[0].isNaN)
        #expect(ReportTables.summaryCSV(full).split(separator: "\n")[1].hasPrefix("f,1,0,,"))
    }

    @Test func badSettingsAreRejected() {
        let u = makeUniverse(closes: [closes(returns: [0.1, 0])])
        #expect(throws: EvaluationError.self) { try FactorEvaluator(universe: u, settings: EvaluationSettings(horizons: [0])) }
        #expect(throws: EvaluationError.self) { try FactorEvaluator(universe: u, settings: EvaluationSettings(minNames: 1)) }
        #expect(throws: EvaluationError.self) { try FactorEvaluator(universe: u, settings: EvaluationSettings(delay: -1)) }
    }
}

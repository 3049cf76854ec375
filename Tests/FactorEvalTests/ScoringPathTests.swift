import FactorCore
@testable import FactorEval
import Foundation
import Testing

/// The scoring's shortcuts (precomputed member return ranks, rank sums counted in vector lanes, the excluded-places
/// list and the bit set, groups as runs) against the spec's definitions computed the slow way, row by row, on random
/// universes built to reach each path: missing factor values where a return exists (and the reverse), tied factor
/// values and tied returns, membership that changes, and rows with more than sixteen names left out.
@Suite("Scoring shortcuts agree with the definitions")
struct ScoringPathTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    struct Market {
        var universe: EvaluationUniverse
        var factor: Panel
    }

    /// `names` instruments over `length` rows: closes with suspensions (NaN runs), closes rounded to create equal
    /// returns, a factor rounded to create ties with its own NaN, and members joining and leaving.
    static func market(seed: UInt64, names: Int, length: Int, missingFactor: Double) -> Market {
        var g = Generator(state: seed)
        var closes = [Double](repeating: .nan, count: names * length)
        var factor = [Double](repeating: .nan, count: names * length)
        var member = [Bool](repeating: false, count: names * length)
        for i in 0..<names {
            var c = 10 + g.next() * 90
            let joins = Int(g.next() * Double(length / 4)), leaves = length - Int(g.next() * Double(length / 4))
            for t in 0..<length {
                c *= 1 + (g.next() - 0.5) * 0.08
                let suspended = g.next() < 0.04
                closes[i * length + t] = suspended ? .nan : (c * 20).rounded() / 20
                let f = g.next() < missingFactor ? Double.nan : (g.next() < 0.3 ? (g.next() * 8).rounded() : g.next() * 10)
                factor[i * length + t] = f
                member[i * length + t] = t >= joins && t < leaves
            }
        }
        let calendar = MarketCalendar(times: (0..<length).map { Timestamp(86_400 * (18_262 + $0)) }, frequency: .day)
        let universe = EvaluationUniverse(instruments: (0..<names).map { String(format: "SZ%06d", $0) }, calendar: calendar,
                                          window: 2..<(length - 3), member: member,
                                          close: Panel(instrumentCount: names, length: length, values: closes))
        return Market(universe: universe, factor: Panel(instrumentCount: names, length: length, values: factor))
    }

    /// Spearman correlation the slow way: average ranks of each side over the pairs, then Pearson.
    static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        Correlation.pearson(Ranking.averageRanks(x), Ranking.averageRanks(y))
    }

    static func forwardReturn(_ u: EvaluationUniverse, _ i: Int, _ t: Int, horizon: Int, delay: Int) -> Double {
        let length = u.calendar.count
        guard t + delay + horizon < length else { return .nan }
        let r = u.close.values[i * length + t + delay + horizon] / u.close.values[i * length + t + delay] - 1
        return r.isFinite ? r : .nan
    }

    @Test(arguments: [(UInt64(1), 40, 0.05), (UInt64(2), 120, 0.02), (UInt64(3), 200, 0.25)])
    func rankICAndDecayMatchTheDefinitions(seed: UInt64, names: Int, missingFactor: Double) throws {
        let market = Self.market(seed: seed, names: names, length: 60, missingFactor: missingFactor)
        let u = market.universe, length = u.calendar.count
        let settings = EvaluationSettings(horizons: [1, 3], delay: 1, quantiles: 4, minNames: 3, decayLags: 4)
        let report = try FactorEvaluator(universe: u, settings: settings).evaluate(name: "f", factor: market.factor)
        var checkedRows = 0
        for (h, horizon) in settings.horizons.enumerated() {
            let series = report.horizons[h].series
            for (row, t) in u.window.enumerated() {
                var f: [Double] = [], r: [Double] = []
                for i in 0..<names where u.isMember(i, t) {
                    let v = market.factor.values[i * length + t], ret = Self.forwardReturn(u, i, t, horizon: horizon, delay: 1)
                    if v.isFinite && ret.isFinite { f.append(v); r.append(ret) }
                }
                #expect(series.n[row] == f.count)
                let expected = f.count >= 3 && Set(f).count > 1 && Set(r).count > 1 ? Self.spearman(f, r) : .nan
                if expected.isNaN {
                    #expect(series.rankIC[row].isNaN)
                } else {
                    #expect(abs(series.rankIC[row] - expected) < 1e-12, "h \(horizon) row \(row): \(series.rankIC[row]) vs \(expected)")
                    #expect(abs(series.ic[row] - Correlation.pearson(f, r)) < 1e-12)
                    checkedRows += 1
                }
            }
        }
        #expect(checkedRows > 50)
        // Decay: mean over rows of the Rank IC against one-bar returns k rows ahead.
        for point in report.decay where point.lag > 0 {
            var sum = 0.0, rows = 0
            for t in u.window where t + point.lag < length {
                var f: [Double] = [], r: [Double] = []
                for i in 0..<names where u.isMember(i, t) {
                    let v = market.factor.values[i * length + t], ret = Self.forwardReturn(u, i, t + point.lag, horizon: 1, delay: 1)
                    if v.isFinite && ret.isFinite { f.append(v); r.append(ret) }
                }
                guard f.count >= 3 else { continue }
                let value = Self.spearman(f, r)
                if value.isFinite { sum += value; rows += 1 }
            }
            #expect(point.n == rows)
            #expect(abs(point.rankICMean - sum / Double(rows)) < 1e-12, "lag \(point.lag)")
        }
    }

    @Test func quantileGroupsAndTurnoverMatchTheDefinitions() throws {
        let market = Self.market(seed: 9, names: 50, length: 40, missingFactor: 0.1)
        let u = market.universe, length = u.calendar.count
        let settings = EvaluationSettings(horizons: [2], delay: 0, quantiles: 5, minNames: 2, decayLags: 0)
        let series = try FactorEvaluator(universe: u, settings: settings).evaluate(name: "f", factor: market.factor).horizons[0].series
        var previousTop: Set<Int>?
        for (row, t) in u.window.enumerated() {
            var sample: [(i: Int, f: Double, r: Double)] = []
            for i in 0..<50 where u.isMember(i, t) {
                let v = market.factor.values[i * length + t], ret = Self.forwardReturn(u, i, t, horizon: 2, delay: 0)
                if v.isFinite && ret.isFinite { sample.append((i, v, ret)) }
            }
            let sorted = sample.map(\.f).sorted()
            let edges = sorted.withUnsafeBufferPointer { b in (1..<5).map { QuantileEdges.quantile(sorted: b, Double($0) / 5) } }
            var groups = [[Double]](repeating: [], count: 5), top = Set<Int>()
            for s in sample {
                let g = edges.filter { $0 < s.f }.count
                groups[g].append(s.r)
                if g == 4 { top.insert(s.i) }
            }
            for g in 0..<5 {
                let mean = groups[g].isEmpty ? Double.nan : groups[g].reduce(0, +) / Double(groups[g].count)
                let got = series.groups[g].wrappedValue[row]
                #expect(mean.isNaN ? got.isNaN : abs(got - mean) < 1e-12, "row \(row) group \(g + 1)")
            }
            let turnover: Double
            if let previous = previousTop, !top.isEmpty, !previous.isEmpty {
                turnover = Double(top.subtracting(previous).count) / Double(top.count)
            } else {
                turnover = .nan
            }
            #expect(turnover.isNaN ? series.turnoverTop[row].isNaN : abs(series.turnoverTop[row] - turnover) < 1e-12)
            previousTop = top
        }
    }
}

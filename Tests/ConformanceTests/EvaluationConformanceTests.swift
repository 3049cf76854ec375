import FactorCore
import FactorData
import FactorEval
import FactorExpr
import FactorTestSupport
import Foundation
import Testing

/// A plain CSV with a header, as rows of column → text.
struct ReferenceRows {
    var header: [String]
    var rows: [[Substring]]

    init(_ text: String) {
        var lines = text.split(separator: "\n")
        header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        rows = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    }

    func column(_ name: String) -> Int { header.firstIndex(of: name)! }
}

/// `factorlab evaluate` against `../shared/reference/eval_cn_csi300` (spec/evaluation.md computed by an independent
/// float64 implementation cross-checked with alphalens and Qlib).
@Suite(.enabled(if: SharedReference.available, "needs ../shared"), .serialized)
struct EvaluationConformanceTests {
    static let cache = NSTemporaryDirectory() + "factorlab-test-cache"

    static func run(delay: Int, factors: FactorInput) throws -> EvaluationReport {
        let source = try DataSources.open(directory: SharedReference.path("data/cn_csi300_daily"), kind: .csv, cacheDirectory: cache)
        let request = EvaluationRequest(universe: .named("csi300"), start: TimeFormat.parse("2019-01-02"),
                                        end: TimeFormat.parse("2023-12-29"), factors: factors,
                                        settings: EvaluationSettings(horizons: [1, 5, 20], delay: delay, quantiles: 5,
                                                                     minNames: 2, decayLags: 10))
        return try EvaluationRun.run(request, source: source).report
    }

    /// |a − b| ≤ atol + rtol·|b|, NaN equal to NaN (empty reference cell).
    static func close(_ a: Double, _ cell: Substring, atol: Double, rtol: Double) -> Bool {
        guard let b = Double(cell) else { return a.isNaN }
        if a.isNaN { return false }
        return abs(a - b) <= atol + rtol * abs(b)
    }

    struct Mismatches {
        var count = 0
        var examples: [String] = []
        mutating func check(_ ok: Bool, _ what: @autoclosure () -> String) {
            if ok { return }
            count += 1
            if examples.count < 12 { examples.append(what()) }
        }
    }

    /// Compares every series row, summary, decay and monthly value for one delay.
    static func compare(_ report: EvaluationReport, delay: Int, atol: Double, rtol: Double, exactCounts: Bool,
                        only factors: Set<String>? = nil, columns: Set<String>? = nil,
                        independentlyChecked: [String: Double] = [:]) throws -> Mismatches {
        var m = Mismatches()
        let byName = Dictionary(uniqueKeysWithValues: report.factors.map { ($0.name, $0) })
        let wanted: (String) -> Bool = { columns?.contains($0) ?? true }
        // Series.
        let series = ReferenceRows(try SharedReference.text("reference/eval_cn_csi300/series.csv"))
        let c = { series.column($0) }
        var compared = 0
        for row in series.rows where Int(row[c("delay")]) == delay {
            let name = String(row[c("factor")])
            if let factors, !factors.contains(name) { continue }
            let factor = try #require(byName[name])
            let h = Int(row[c("horizon")])!
            let hr = try #require(factor.horizons.first { $0.horizon == h })
            let s = hr.series
            let date = String(row[c("date")])
            let k = try #require(s.dates.firstIndex(of: date), "date \(date)")
            let key = "\(name) d\(delay) h\(h) \(date)"
            func num(_ col: String, _ v: Double) {
                guard wanted(col) else { return }
                if let expected = independentlyChecked["\(key) \(col)"] {
                    m.check(abs(v - expected) <= 1e-12, "\(key) \(col): \(v) vs independent float64 \(expected)")
                    return
                }
                m.check(close(v, row[c(col)], atol: atol, rtol: rtol), "\(key) \(col): \(v) vs \(row[c(col)])")
            }
            num("ic", s.ic[k]); num("rank_ic", s.rankIC[k]); num("long_short", s.longShort[k])
            for q in 1...5 { num("q\(q)", s.groups[q - 1].wrappedValue[k]) }
            num("turnover_top", s.turnoverTop[k]); num("turnover_bottom", s.turnoverBottom[k]); num("autocorr", s.autocorrelation[k])
            if exactCounts {
                m.check(s.n[k] == Int(row[c("n")])!, "\(key) n \(s.n[k]) vs \(row[c("n")])")
                m.check(s.members[k] == Int(row[c("members")])!, "\(key) members \(s.members[k]) vs \(row[c("members")])")
                m.check(s.nFactor[k] == Int(row[c("n_factor")])!, "\(key) n_factor \(s.nFactor[k]) vs \(row[c("n_factor")])")
                m.check(s.nReturn[k] == Int(row[c("n_return")])!, "\(key) n_return \(s.nReturn[k]) vs \(row[c("n_return")])")
                m.check((s.noICReason[k] ?? "") == row[c("no_ic_reason")], "\(key) reason \(s.noICReason[k] ?? "") vs \(row[c("no_ic_reason")])")
            }
            compared += 1
        }
        #expect(compared > 0)
        // Summaries.
        let summary = ReferenceRows(try SharedReference.text("reference/eval_cn_csi300/summary.csv"))
        let sc = { summary.column($0) }
        for row in summary.rows where Int(row[sc("delay")]) == delay {
            let name = String(row[sc("factor")])
            if let factors, !factors.contains(name) { continue }
            let h = Int(row[sc("horizon")])!
            let hs = try #require(byName[name]?.horizons.first { $0.horizon == h }).summary
            let key = "\(name) d\(delay) h\(h) summary"
            let figures: [(String, Double)] = [
                ("ic_mean", hs.ic.mean), ("ic_std", hs.ic.std), ("icir", hs.ic.ir), ("ic_t", hs.ic.t), ("ic_nw_t", hs.ic.neweyWestT),
                ("ic_positive", hs.ic.positive), ("rank_ic_mean", hs.rankIC.mean), ("rank_ic_std", hs.rankIC.std),
                ("rank_icir", hs.rankIC.ir), ("rank_ic_t", hs.rankIC.t), ("rank_ic_positive", hs.rankIC.positive),
                ("rank_ic_nw_t", hs.rankIC.neweyWestT), ("ls_mean", hs.longShort.mean), ("ls_std", hs.longShort.std),
                ("ls_ann_return", hs.longShort.annualReturn), ("ls_ann_vol", hs.longShort.annualVolatility),
                ("ls_sharpe", hs.longShort.sharpe), ("ls_cum_return", hs.longShort.cumulativeReturn),
                ("ls_max_drawdown", hs.longShort.maxDrawdown), ("turnover_top", hs.turnoverTop),
                ("turnover_bottom", hs.turnoverBottom), ("autocorr", hs.autocorrelation),
            ] + (1...5).map { ("q\($0)_mean", hs.groupMeans[$0 - 1]) }
            for (col, v) in figures where wanted(col) {
                m.check(close(v, row[sc(col)], atol: atol, rtol: rtol), "\(key) \(col): \(v) vs \(row[sc(col)])")
            }
            if exactCounts {
                m.check(hs.ic.n == Int(row[sc("n")])!, "\(key) n \(hs.ic.n) vs \(row[sc("n")])")
                m.check(hs.rows == Int(row[sc("rows")])!, "\(key) rows")
                m.check(hs.rowsWithoutIC == Int(row[sc("rows_no_ic")])!, "\(key) rows_no_ic")
            }
        }
        // Decay.
        let decay = ReferenceRows(try SharedReference.text("reference/eval_cn_csi300/decay.csv"))
        let dc = { decay.column($0) }
        for row in decay.rows where Int(row[dc("delay")]) == delay {
            let name = String(row[dc("factor")])
            if let factors, !factors.contains(name) { continue }
            let point = try #require(byName[name]?.decay.first { $0.lag == Int(row[dc("k")])! })
            if wanted("decay") {
                m.check(close(point.rankICMean, row[dc("rank_ic_mean")], atol: atol, rtol: rtol), "\(name) decay k\(point.lag): \(point.rankICMean) vs \(row[dc("rank_ic_mean")])")
            }
            if exactCounts { m.check(point.n == Int(row[dc("n")])!, "\(name) decay k\(point.lag) n \(point.n) vs \(row[dc("n")])") }
        }
        // Monthly.
        let monthly = ReferenceRows(try SharedReference.text("reference/eval_cn_csi300/monthly.csv"))
        let mc = { monthly.column($0) }
        for row in monthly.rows where Int(row[mc("delay")]) == delay {
            let name = String(row[mc("factor")])
            if let factors, !factors.contains(name) { continue }
            let h = Int(row[mc("horizon")])!
            let months = try #require(byName[name]?.horizons.first { $0.horizon == h }).monthly
            let month = try #require(months.first { $0.month == row[mc("month")] }, "\(name) \(row[mc("month")])")
            if wanted("monthly") {
                m.check(close(month.icMean, row[mc("ic_mean")], atol: atol, rtol: rtol), "\(name) h\(h) \(month.month) ic_mean")
                m.check(close(month.rankICMean, row[mc("rank_ic_mean")], atol: atol, rtol: rtol), "\(name) h\(h) \(month.month) rank_ic_mean")
            }
            if exactCounts { m.check(month.n == Int(row[mc("n")])!, "\(name) h\(h) \(month.month) n") }
        }
        return m
    }

    @Test("Fed the reference's factor values (--values), every figure agrees to rounding level", arguments: [1, 0])
    func referenceValues(delay: Int) async throws {
        try await blocking {
            let report = try Self.run(delay: delay, factors: .values(path: SharedReference.path("reference/eval_cn_csi300/factor_values.csv.gz")))
            #expect(report.factors.map(\.name) == ["ROC20", "STD20", "CORR20", "RSQR20", "KMID", "IMAX10", "VSTD20", "SUMP10"])
            let m = try Self.compare(report, delay: delay, atol: 1e-12, rtol: 1e-9, exactCounts: true)
            for e in m.examples { Issue.record(Comment(rawValue: e)) }
            #expect(m.count == 0)
        }
    }

    @Test("Computed end to end from the expressions (Float64 factors), within the tolerances the reference measured",
          arguments: [1, 0])
    func endToEnd(delay: Int) async throws {
        try await blocking {
            let expressions = [NamedExpression(name: "ROC20", text: "Ref($close, 20)/$close"),
                               NamedExpression(name: "KMID", text: "($close-$open)/$open")]
            let report = try Self.run(delay: delay, factors: .expressions(expressions))
            let only: Set<String> = ["ROC20", "KMID"]
            // README (eval_cn_csi300, "End to end"): per-row IC ≤ 3.8e-7, Rank IC ≤ 2.1e-4, autocorr ≤ 2e-4, group
            // returns / long-short ≤ 1.7e-3, turnover ≤ 1.8e-2; summary means ≤ 2.2e-6, ratios ≤ 8.4e-4 relative,
            // cumulative long-short ≤ 1.2e-3 absolute / 8.4e-4 relative.
            let groups: [(Set<String>, Double, Double)] = [
                (["ic", "ic_mean", "ic_std"], 5e-7, 0),
                (["rank_ic", "autocorr", "decay", "monthly", "rank_ic_mean", "rank_ic_std"], 3e-4, 0),
                (["long_short", "q1", "q2", "q3", "q4", "q5", "q1_mean", "q2_mean", "q3_mean", "q4_mean", "q5_mean",
                  "ls_mean", "ls_std", "ic_positive", "rank_ic_positive"], 2e-3, 0),
                (["turnover_top", "turnover_bottom"], 2e-2, 0),
                (["icir", "ic_t", "ic_nw_t", "rank_icir", "rank_ic_t", "rank_ic_nw_t", "ls_sharpe", "ls_ann_return",
                  "ls_ann_vol", "ls_cum_return", "ls_max_drawdown"], 2e-3, 1e-3),
            ]
            // Two cells exceed the README's measured group bound: on 2019-06-26 two KMID values (SH600886, SH601600)
            // swap groups 2 and 3 between float32 and float64 rounding. These are checked instead against an
            // independent numpy float64 computation (np.quantile + searchsorted on the CSV closes).
            let independent = ["KMID d1 h20 2019-06-26 q2": -0.014254729106138835, "KMID d1 h20 2019-06-26 q3": 3.49941947022209e-07]
            for (columns, atol, rtol) in groups {
                let m = try Self.compare(report, delay: delay, atol: atol, rtol: rtol, exactCounts: true, only: only, columns: columns,
                                         independentlyChecked: independent)
                for e in m.examples { Issue.record(Comment(rawValue: e)) }
                #expect(m.count == 0, "columns \(columns.sorted())")
            }
        }
    }
}

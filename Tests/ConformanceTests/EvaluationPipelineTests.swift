import FactorCore
import FactorData
import FactorEval
import FactorExpr
import FactorTestSupport
import Foundation
import Testing

/// `factorlab evaluate` at other frequencies and with preprocessing, on the real data.
@Suite(.enabled(if: SharedReference.available, "needs ../shared"), .serialized)
struct EvaluationPipelineTests {
    static let cache = NSTemporaryDirectory() + "factorlab-test-cache"

    static func csi300() throws -> any MarketDataSource {
        try DataSources.open(directory: SharedReference.path("data/cn_csi300_daily"), kind: .csv, cacheDirectory: cache)
    }

    @Test("Weekly and monthly evaluation: horizons in bars of the frequency, annualised with 52 and 12")
    func weeklyAndMonthly() async throws {
        try await blocking {
            let mom = [NamedExpression(name: "MOM4", text: "$close/Ref($close, 4) - 1")]
            let request = EvaluationRequest(universe: .named("csi300"), start: TimeFormat.parse("2019-01-01"),
                                            end: TimeFormat.parse("2022-12-31"), frequency: .week, factors: .expressions(mom),
                                            settings: EvaluationSettings(horizons: [1, 4]))
            let weekly = try EvaluationRun.run(request, source: try Self.csi300()).report
            #expect(weekly.settings.periodsPerYear == 52)
            #expect(weekly.frequency == "week")
            let h1 = try #require(weekly.factors[0].horizons.first)
            #expect(h1.series.dates.count > 200 && h1.series.dates.count < 215)
            #expect(h1.summary.ic.n > 190)
            #expect(abs(h1.summary.longShort.annualReturn - h1.summary.longShort.mean * 52) < 1e-15)
            var monthlyRequest = request
            monthlyRequest.frequency = .month
            let monthly = try EvaluationRun.run(monthlyRequest, source: try Self.csi300()).report
            #expect(monthly.settings.periodsPerYear == 12)
            #expect(monthly.factors[0].horizons[0].series.dates.count == 48)
            #expect(monthly.factors[0].horizons[0].series.dates.first == "2019-01-31")
        }
    }

    @Test("Intraday evaluation on 5-minute ETF bars: P = 252 × 48")
    func intraday() async throws {
        try await blocking {
            let source = try DataSources.open(directory: SharedReference.path("data/cn_etf_5min"), kind: .csv, cacheDirectory: Self.cache)
            let request = EvaluationRequest(factors: .expressions([NamedExpression(name: "REV12", text: "Ref($close, 12)/$close - 1")]),
                                            settings: EvaluationSettings(horizons: [1, 48], delay: 1))
            let report = try EvaluationRun.run(request, source: source).report
            #expect(report.settings.periodsPerYear == 252 * 48)
            let s = report.factors[0].horizons[0].series
            #expect(s.dates.count == 62 * 48)
            #expect(s.dates[0] == "2023-02-01 09:35:00")
            #expect(s.members.max() == 42)
            #expect(report.factors[0].horizons[0].summary.ic.n > 2900)
        }
    }

    @Test("Industry neutralization and IC by industry")
    func industries() async throws {
        try await blocking {
            let industryFile = SharedReference.path("data/cn_csi300_daily/meta/industry_csrc.csv")
            let factors = FactorInput.expressions([NamedExpression(name: "STD20", text: "Std($close, 20)/$close")])
            let base = EvaluationRequest(universe: .named("csi300"), start: TimeFormat.parse("2021-01-01"), end: TimeFormat.parse("2021-12-31"),
                                         factors: factors, settings: EvaluationSettings(horizons: [5]), industryFile: industryFile)
            let raw = try EvaluationRun.run(base, source: try Self.csi300()).report.factors[0].horizons[0]
            #expect(raw.industries.count > 20)
            #expect(raw.industries.allSatisfy { $0.rows > 0 && $0.rankICMean.isFinite })
            var neutralRequest = base
            neutralRequest.settings.preprocessing = Preprocessing(winsorize: .mad(3), neutralizeIndustry: true, zscore: true)
            let neutral = try EvaluationRun.run(neutralRequest, source: try Self.csi300()).report.factors[0].horizons[0]
            // Same sample, different values: the coverage matches, the IC moves.
            #expect(neutral.summary.coverage.inSample == raw.summary.coverage.inSample)
            #expect(neutral.summary.ic.mean != raw.summary.ic.mean)
            var missing = base
            missing.industryFile = nil
            missing.settings.preprocessing.neutralizeIndustry = true
            #expect(throws: EvaluationError.self) { try EvaluationRun.run(missing, source: try Self.csi300()) }
        }
    }

    @Test("A custom label: Qlib's LABEL0 as --label equals the d = 1, h = 1 forward return")
    func customLabel() async throws {
        try await blocking {
            let factors = FactorInput.expressions([NamedExpression(name: "ROC20", text: "Ref($close, 20)/$close")])
            let base = EvaluationRequest(universe: .named("csi300"), start: TimeFormat.parse("2022-01-01"), end: TimeFormat.parse("2022-12-31"),
                                         factors: factors, settings: EvaluationSettings(horizons: [1], delay: 1))
            var labelled = base
            labelled.label = "Ref($close, -2)/Ref($close, -1) - 1"
            let a = try EvaluationRun.run(base, source: try Self.csi300()).report.factors[0].horizons[0]
            let b = try EvaluationRun.run(labelled, source: try Self.csi300()).report.factors[0].horizons[0]
            #expect(a.series.n == b.series.n)
            #expect(a.series.ic == b.series.ic)
            #expect(a.series.rankIC == b.series.rankIC)
            #expect(a.summary.longShort == b.summary.longShort)
            var twoHorizons = labelled
            twoHorizons.settings.horizons = [1, 5]
            #expect(throws: EvaluationError.self) { try EvaluationRun.run(twoHorizons, source: try Self.csi300()) }
        }
    }

    @Test("A factor that reads the future is refused; a label may; decay stays on one-bar returns under a custom label")
    func lookAheadAndLabelDecay() async throws {
        try await blocking {
            let source = try Self.csi300()
            let window = (TimeFormat.parse("2021-01-04"), TimeFormat.parse("2021-12-31"))
            let peek = EvaluationRequest(universe: .named("csi300"), start: window.0, end: window.1,
                                         factors: .expressions([NamedExpression(name: "PEEK", text: "Ref($close, -2)/Ref($close, -1) - 1")]),
                                         settings: EvaluationSettings(horizons: [1]))
            do {
                _ = try EvaluationRun.run(peek, source: source)
                Issue.record("a look-ahead factor was evaluated")
            } catch {
                #expect("\(error)".contains("PEEK") && "\(error)".contains("ahead"), "\(error)")
            }
            let mom = [NamedExpression(name: "MOM20", text: "$close/Ref($close, 20) - 1")]
            var plain = EvaluationRequest(universe: .named("csi300"), start: window.0, end: window.1, factors: .expressions(mom),
                                          settings: EvaluationSettings(horizons: [1]))
            let reference = try EvaluationRun.run(plain, source: source).report.factors[0].decay
            plain.label = "Ref($close, -21)/Ref($close, -1) - 1"
            let labelled = try EvaluationRun.run(plain, source: source).report.factors[0].decay
            #expect(labelled.count == reference.count)
            for (a, b) in zip(labelled, reference) {
                #expect(abs(a.rankICMean - b.rankICMean) < 1e-12 && a.n == b.n, "lag \(a.lag): \(a.rankICMean) vs \(b.rankICMean)")
            }
        }
    }
}

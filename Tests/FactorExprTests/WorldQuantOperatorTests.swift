import FactorCore
import Foundation
@testable import FactorExpr
import Testing

@Suite("WorldQuant operators (BRAIN conventions, alpha101v probes)")
struct WorldQuantOperatorTests {
    /// The definition, multiplied out oldest first over the window's non-NaN values.
    func bruteProduct(_ x: [Double], window: Int) -> [Double] {
        x.indices.map { t in
            let values = x[max(0, t - window + 1)...t].filter { !$0.isNaN }
            return values.isEmpty ? .nan : values.reduce(1, *)
        }
    }

    @Test func productSkipsNaNAndIsNaNOnAnEmptyWindow() throws {
        let x: [Double] = [2, .nan, 3, 0.5, .nan, .nan, -1, 4]
        expectSeries(try evaluate("Product($close, 2)", close: x), [2, 2, 3, 1.5, 0.5, nan, -1, -4])
        expectSeries(try evaluate("Product($close, 0)", close: x), [2, 2, 6, 3, 3, 3, -3, -12])
    }

    @Test func longWindowsUseBlockProductsThatAgreeWithTheDefinition() throws {
        // Values near 1 so that products of 100–300 rows stay finite; NaN gaps, a zero and negative values.
        var x = (0..<700).map { 1 + 0.01 * sin(Double($0) * 0.7) }
        for t in stride(from: 5, to: 700, by: 37) { x[t] = .nan }
        x[400] = 0
        x[450] = -1.02
        for window in [3, 64, 65, 100, 250] {
            let got = try evaluate("Product($close, \(window))", close: x)
            expectSeries(got, bruteProduct(x, window: window), tolerance: 1e-12)
        }
        #expect(Lookback.of(try Checker(fields: ["close"]).check("Product($close, 20)")).rowsBefore == 19)
    }

    @Test func signedPowerKeepsTheSign() throws {
        let x: [Double] = [-2, -0.5, 0, 0.5, 3, .nan]
        expectSeries(try evaluate("SignedPower($close, 2)", close: x), [-4, -0.25, 0, 0.25, 9, nan])
        expectSeries(try evaluate("SignedPower($close, 0.5)", close: x), [-2.0.squareRoot(), -0.5.squareRoot(), 0, 0.5.squareRoot(), (3.0).squareRoot(), nan])
        let checker = Checker(fields: ["close"])
        #expect(CanonicalForm.text(try checker.check("SignedPower($close, 2)"))
                == CanonicalForm.text(try checker.check("Sign($close) * Power(Abs($close), 2)")))
    }

    // The probes below are alpha101v 0.1.9's own examples (docs/research/alpha101v.md §3), run against that package.

    @Test func wqRankMapsTheLowestToZeroAndTheHighestToOne() throws {
        let data = makeData(["close": [[4], [3], [6], [10], [2]]])
        #expect(try evaluate("WQRank($close)", data).map { $0[0] } == [0.5, 0.25, 0.75, 1, 0])
        let ties = try evaluate("WQRank($close)", makeData(["close": [[1], [1], [2], [.nan]]])).map { $0[0] }
        expectSeries(ties, [0.25, 0.25, 1, nan])
        // A lone value has no rank in [0, 1].
        expectSeries(try evaluate("WQRank($close)", makeData(["close": [[7], [.nan]]])).map { $0[0] }, [nan, nan])
    }

    @Test func wqTsRankCountsTodayInAStrictWindow() throws {
        expectSeries(try evaluate("WQTsRank($close, 5)", close: [10, 12, 11, 15, 13]), [nan, nan, nan, nan, 0.75])
        expectSeries(try evaluate("WQTsRank($close, 3)", close: [1, 2, 2, .nan, 5, 6, 7]), [nan, nan, 0.75, nan, nan, nan, 1])
    }

    @Test func wqDecayLinearCountsMissingRowsAsZero() throws {
        expectSeries(try evaluate("WQDecayLinear($close, 3)", close: [1, 2, 3]), [nan, nan, 14.0 / 6])
        expectSeries(try evaluate("WQDecayLinear($close, 3)", close: [1, .nan, 3]), [nan, nan, 10.0 / 6])
        expectSeries(try evaluate("WQDecayLinear($close, 2)", close: [.nan, .nan, 1, 2, 3]), [nan, nan, 2.0 / 3, 5.0 / 3, 8.0 / 3])
        // An instrument whose series starts after the data's first row was listed then: the rows before count as 0.
        let listed = makeData(["close": [[1, 2, 3, 4], [.nan, .nan, 5, 6]]], spans: [0..<4, 2..<4])
        expectSeries(try evaluate("WQDecayLinear($close, 3)", listed)[1], [nan, nan, 15.0 / 6, (18.0 + 10) / 6])
    }

    @Test func wqArgMaxCountsDaysAgoWithTiesToTheOldest() throws {
        expectSeries(try evaluate("WQTsArgMax($close, 3)", close: [1, 5, 3, 2]), [nan, nan, 1, 2])
        expectSeries(try evaluate("WQTsArgMax($close, 3)", close: [5, 5, 1]), [nan, nan, 2])
        expectSeries(try evaluate("WQTsArgMin($close, 3)", close: [1, 5, 3, 2]), [nan, nan, 2, 0])
    }

    @Test func wqWindowsAreStrictAndMomentsArePopulation() throws {
        let x: [Double] = [1, 2, 3, 4, .nan, 5, 6, 7, 8]
        expectSeries(try evaluate("WQSum($close, 3)", close: x), [nan, nan, 6, 9, nan, nan, nan, 18, 21])
        expectSeries(try evaluate("WQMean($close, 2)", close: x), [nan, 1.5, 2.5, 3.5, nan, nan, 5.5, 6.5, 7.5])
        expectSeries(try evaluate("WQStdDev($close, 4)", close: x), [nan, nan, nan, (1.25).squareRoot(), nan, nan, nan, nan, (1.25).squareRoot()])
        expectSeries(try evaluate("WQTsMax($close, 2)", close: x), [nan, 2, 3, 4, nan, nan, 6, 7, 8])
        expectSeries(try evaluate("WQProduct($close, 2)", close: x), [nan, 2, 6, 12, nan, nan, 30, 42, 56])
        let pair = makeData(["close": [[1, 2, 3, 4]], "volume": [[2, 4, 6, 9]]])
        // Population covariance of (2,3,4) and (4,6,9): Σ(x−x̄)(y−ȳ)/3 = (−1·−2.333… + 0 + 1·2.666…)/3 = 5/3.
        expectSeries(try evaluate("WQCovariance($close, $volume, 3)", pair)[0], [nan, nan, 4.0 / 3, 5.0 / 3])
        // A flat window has no correlation.
        let flat = makeData(["close": [[1, 2, 3, 4]], "volume": [[5, 5, 5, 6]]])
        expectSeries(try evaluate("WQCorrelation($close, $volume, 3)", flat)[0], [nan, nan, nan, (3.0).squareRoot() / 2])
        #expect(Lookback.of(try Checker(fields: ["close"]).check("WQDecayLinear(WQTsRank($close, 10), 5)")).rowsBefore == 13)
    }

    @Test func wqComparisonsAndChoicesPropagateUnknowns() throws {
        let data = makeData(["close": [[1, 2, .nan, 3]], "volume": [[2, 1, 1, .infinity]]])
        expectSeries(try evaluate("WQLt($close, $volume)", data)[0], [1, 0, nan, nan])
        expectSeries(try evaluate("WQIf(WQGt($close, $volume), $close, -1)", data)[0], [-1, 2, nan, nan])
        expectSeries(try evaluate("WQOr(WQGt($close, 1.5), WQLt($close, $volume))", data)[0], [1, 1, nan, 1])
        expectSeries(try evaluate("WQAnd(WQGt($close, 1.5), WQLt($close, $volume))", data)[0], [0, 0, nan, nan])
        expectSeries(try evaluate("WQMax($close, 2.5)", data)[0], [2.5, 2.5, 2.5, 3])
        expectSeries(try evaluate("WQLog($close - 2)", data)[0], [nan, nan, nan, 0])
    }

    @Test func wqPowerIsBrainsPower() throws {
        let x: [Double] = [-2, -8, 0, 4, .nan]
        expectSeries(try evaluate("WQPower($close, 2)", close: x), [4, 64, 0, 16, nan])
        expectSeries(try evaluate("WQPower($close, 3)", close: x), [-8, -512, 0, 64, nan])
        expectSeries(try evaluate("WQPower($close, 0.5)", close: x), [(2.0).squareRoot(), (8.0).squareRoot(), 0, 2, nan])
        expectSeries(try evaluate("WQPower($close, 0)", close: [0, 3]), [0, 1])
        expectSeries(try evaluate("WQSignedPower($close, 2)", close: x), [-4, -64, 0, 16, nan])
    }

    @Test func advIsTheStrictMeanOfVolume() throws {
        let data = makeData(["close": [[1, 1, 1, 1]], "volume": [[10, 20, .nan, 40]]])
        expectSeries(try evaluate("$adv2", data)[0], [nan, 15, nan, nan])
        let checker = Checker(fields: ["close", "volume"])
        #expect(CanonicalForm.text(try checker.check("$adv20")) == CanonicalForm.text(try checker.check("WQMean($volume, 20)")))
        // Without volume, adv is an unknown field like any other.
        #expect(throws: ExpressionError.self) { try Checker(fields: ["close"]).check("$adv20") }
    }

    @Test func theWq101LibraryChecksAndKnowsWhatItNeeds() throws {
        let library = ExpressionLibrary.wq101
        #expect(library.entries.count == WorldQuant101.alphas.count)
        #expect(library.entries.first?.name == "WQ_001")
        let checker = Checker(fields: ["open", "high", "low", "close", "volume", "vwap"]).forFactors
        for entry in library.entries {
            #expect(throws: Never.self, "\(entry.name)") { try checker.check(entry.expression) }
        }
        let noVwap = library.split(fields: ["open", "high", "low", "close", "volume"], categories: ["industry", "sector"])
        #expect(noVwap.lacking.allSatisfy { $0.missing == ["vwap"] })
        #expect(noVwap.usable.count + noVwap.lacking.count == library.entries.count)
        let noIndustry = library.split(fields: ["open", "high", "low", "close", "volume", "vwap"], categories: [])
        #expect(noIndustry.lacking.contains { $0.missing.contains("industry") })
        #expect(library.omitted.map(\.name) == ["WQ_056"])
    }
}

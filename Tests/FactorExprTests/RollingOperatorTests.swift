import FactorCore
@testable import FactorExpr
import Testing
import Foundation

@Suite("Rolling operators on hand-computed series")
struct RollingOperatorTests {
    @Test func meanSumCountSkipNaNAndShortWindows() throws {
        let x = [1.0, 2, nan, 4, nan, nan]
        expectSeries(try evaluate("Mean($close, 2)", close: x), [1, 1.5, 2, 4, 4, nan])
        expectSeries(try evaluate("Sum($close, 3)", close: x), [1, 3, 3, 6, 4, 4])
        expectSeries(try evaluate("Count($close, 2)", close: x), [1, 2, 1, 1, 1, 0])
        expectSeries(try evaluate("Mean($close, 0)", close: x), [1, 1.5, 1.5, 7.0 / 3, 7.0 / 3, 7.0 / 3])
    }

    @Test func stdAndVarUseDdofOneAndNeedTwoValues() throws {
        let x = [1.0, 2, 3, nan, 5]
        expectSeries(try evaluate("Std($close, 3)", close: x), [nan, 0.5.squareRoot(), 1, 0.5.squareRoot(), 2.0.squareRoot()])
        expectSeries(try evaluate("Var($close, 3)", close: x), [nan, 0.5, 1, 0.5, 2])
        // A constant window has exactly zero spread (pandas), not rounding residue.
        expectSeries(try evaluate("Std($close, 3)", close: [0.1, 0.1, 0.1, 0.1]), [nan, 0, 0, 0], tolerance: 0)
    }

    @Test func rollingWindowsStayAccurateOverLongSeries() throws {
        // Prices drifting far from their start stress the running sums; compare with a direct computation.
        var x: [Double] = []
        var p = 100.0
        for i in 0..<3000 { p *= 1 + 0.01 * sin(Double(i) * 0.7); x.append(i % 97 == 0 ? nan : p) }
        let std = try evaluate("Std($close, 20)", close: x)
        let mean = try evaluate("Mean($close, 20)", close: x)
        for t in stride(from: 19, to: 3000, by: 37) {
            let window = x[(t - 19)...t].filter { !$0.isNaN }
            let m = window.reduce(0, +) / Double(window.count)
            let s = (window.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(window.count - 1)).squareRoot()
            #expect(abs(mean[t] - m) <= 1e-12 * abs(m))
            #expect(abs(std[t] - s) <= 1e-9 * s)
        }
    }

    @Test func maxMinIgnoreNaN() throws {
        let x = [3.0, nan, 1, 5, 2]
        expectSeries(try evaluate("Max($close, 2)", close: x), [3, 3, 1, 5, 5])
        expectSeries(try evaluate("Min($close, 3)", close: x), [3, 3, 1, 1, 1])
        expectSeries(try evaluate("Max($close, 1)", close: x), [3, nan, 1, 5, 2])
    }

    @Test func idxMaxCountsFromOldestRowTiesTakeOldestNaNIsExtreme() throws {
        expectSeries(try evaluate("IdxMax($close, 3)", close: [1, 3, 3, 2]), [1, 2, 2, 1])
        expectSeries(try evaluate("IdxMin($close, 3)", close: [2, 1, 1, 3]), [1, 2, 2, 1])
        // A NaN inside a window with values counts as the extreme (numpy argmax); an all-NaN window is NaN.
        expectSeries(try evaluate("IdxMax($close, 3)", close: [1, nan, 2, 0, 1]), [1, 2, 2, 1, 1])
        expectSeries(try evaluate("IdxMin($close, 2)", close: [nan, nan, 4]), [nan, nan, 1])
    }

    @Test func medianQuantileAndTimeSeriesRank() throws {
        expectSeries(try evaluate("Med($close, 3)", close: [3, 1, 2, nan]), [3, 2, 2, 1.5])
        expectSeries(try evaluate("Quantile($close, 4, 0.8)", close: [1, 2, 3, 4]), [1, 1.8, 2.6, 3.4])
        expectSeries(try evaluate("Quantile($close, 4, 0.5)", close: [4, 1, 3, 2]), [4, 2.5, 3, 2.5])
        // Rank: average rank of today's value among the window ÷ count; ties averaged; NaN today gives NaN.
        expectSeries(try evaluate("Rank($close, 3)", close: [1, 2, 2, 0, nan, 5]),
                     [1, 1, 2.5 / 3, 1.0 / 3, nan, 1])
    }

    @Test func regressionOnRowPositions() throws {
        expectSeries(try evaluate("Slope($close, 3)", close: [1, 2, 4]), [nan, 1, 1.5])
        // NaN rows keep their positions: values at positions 1 and 3.
        expectSeries(try evaluate("Slope($close, 3)", close: [1, nan, 4]), [nan, nan, 1.5])
        expectSeries(try evaluate("Resi($close, 3)", close: [1, 2, 4]), [nan, 0, 4 - (7.0 / 3 + 1.5)])
        let r2 = 9.0 / (2 * (1.0 + 4.0 / 9 + 25.0 / 9 - 0) - 0)  // Sxy² / (Sxx·Syy) with Sxy 3, Sxx 2, Syy 14/3
        expectSeries(try evaluate("Rsquare($close, 3)", close: [1, 2, 4]), [nan, 1, 9.0 / (2 * 14.0 / 3)])
        _ = r2
        // A flat window (std ≤ 2e-5) has no R².
        expectSeries(try evaluate("Rsquare($close, 3)", close: [12, 12, 12, 12.00001]), [nan, nan, nan, nan])
        expectSeries(try evaluate("Slope($close, 3)", close: [12, 12, 12]), [nan, 0, 0])
    }

    @Test func corrAndCovOverPairsBothValid() throws {
        let data = makeData(["close": [[1, 2, 3, 4, nan, 6]], "volume": [[2, 4, 7, nan, 5, 10]]])
        let corr = try evaluate("Corr($close, $volume, 3)", data)[0]
        let cov = try evaluate("Cov($close, $volume, 3)", data)[0]
        // t=2: pairs (1,2),(2,4),(3,7): cov = 2.5, corr = 2.5 / (1 * sqrt(6.333…))
        expectSeries(cov, [nan, 1, 2.5, 1.5, nan, nan])
        expectSeries(corr, [nan, 1, 2.5 / (19.0 / 3).squareRoot(), 1, nan, nan])
        // Flat x → NaN correlation even though the pairs exist.
        let flat = makeData(["close": [[5, 5, 5, 5]], "volume": [[1, 2, 3, 4]]])
        expectSeries(try evaluate("Corr($close, $volume, 3)", flat)[0], [nan, nan, nan, nan])
    }

    @Test func skewKurtMadMatchPandasDefinitions() throws {
        // Reference values: scipy.stats.skew/kurtosis(bias=False), which equal pandas' rolling skew/kurt.
        let x = [1.0, 2, 3, 10]
        expectSeries(try evaluate("Skew($close, 4)", close: x), [nan, nan, 0, 1.763632614803888], tolerance: 1e-12)
        expectSeries(try evaluate("Kurt($close, 4)", close: x), [nan, nan, nan, 3.2280000000000015], tolerance: 1e-12)
        expectSeries(try evaluate("Kurt($close, 5)", close: [2, 7, 1, 8, 2]).suffix(1).map { $0 }, [-2.8979591836734695])
        expectSeries(try evaluate("Mad($close, 4)", close: x), [0, 0.5, 2.0 / 3, 3])
        expectSeries(try evaluate("Skew($close, 3)", close: [4, 4, 4]), [nan, nan, 0])
    }

    @Test func wmaWeightsByPositionNewestHeaviest() throws {
        expectSeries(try evaluate("WMA($close, 3)", close: [1, 2, 3, 6]), [1, 5.0 / 3, 14.0 / 6, (2 + 6 + 18) / 6.0])
        // FactorLab is correct where Qlib divides once more by the count (Qlib issue 1993).
        expectSeries(try evaluate("WMA($close, 2)", close: [nan, 4]), [nan, 4])
    }

    @Test func emaIsPandasAdjustedAndCarriesOverNaN() throws {
        let a = 2.0 / 3
        let y1 = (2 + (1 - a) * 1) / (1 + (1 - a))
        let y2 = (3 + (1 - a) * 2 + (1 - a) * (1 - a) * 1) / (1 + (1 - a) + (1 - a) * (1 - a))
        expectSeries(try evaluate("EMA($close, 2)", close: [1, 2, 3, nan]), [1, y1, y2, y2])
        // With a gap, weights decay across the NaN row (ignore_na=False).
        let z = (5 + (1 - a) * (1 - a) * 1) / (1 + (1 - a) * (1 - a))
        expectSeries(try evaluate("EMA($close, 2)", close: [1, nan, 5]), [1, 1, z])
        expectSeries(try evaluate("Mean($close, 0.5)", close: [2, 4]), [2, (4 + 0.5 * 2) / 1.5])
        // Qlib's Rolling base takes ewm(alpha=N).mean() for 0 < N < 1 whatever the operator (spec: "Mean/Sum/…").
        for name in ["Sum", "Std", "Var", "Max", "Med", "Count", "Mad"] {
            expectSeries(try evaluate("\(name)($close, 0.5)", close: [2, 4]), [2, (4 + 0.5 * 2) / 1.5])
        }
    }

    @Test func refAndDeltaCountCalendarRows() throws {
        let x = [1.0, 2, nan, 4, 7]
        expectSeries(try evaluate("Ref($close, 1)", close: x), [nan, 1, 2, nan, 4])
        expectSeries(try evaluate("Ref($close, -2)", close: x), [nan, 4, 7, nan, nan])
        expectSeries(try evaluate("Ref($close, 0)", close: x), x)
        expectSeries(try evaluate("Delta($close, 1)", close: x), [nan, 1, nan, nan, 3])
        expectSeries(try evaluate("Delta($close, 3)", close: x), [nan, nan, nan, 3, 5])
        // N = 0 is Qlib's expanding form: x minus the first value (series - series.iloc[0]).
        expectSeries(try evaluate("Delta($close, 0)", close: x), [0, 1, nan, 3, 6])
        expectSeries(try evaluate("Delta($close, 0)", close: [nan, 2, 3]), [nan, nan, nan])
        #expect(try ExpressionInfo("Delta($close, 0)").lookback.rowsBefore == nil)
    }

    @Test func windowsStartAtEachInstrumentsFirstRow() throws {
        // Instrument 1 lists at row 2: its windows are short there and rows before its span stay NaN.
        let data = makeData(["close": [[1, 2, 3, 4], [nan, nan, 10, 30]]], spans: [0..<4, 2..<4])
        let out = try evaluate("IdxMax($close, 3)", data)
        expectSeries(out[0], [1, 2, 3, 3])
        expectSeries(out[1], [nan, nan, 1, 2])
        expectSeries(try evaluate("$close > 0", data)[1], [nan, nan, 1, 1])
    }
}

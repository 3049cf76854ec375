import FactorCore
@testable import FactorExpr
import Testing

@Suite("Element-wise, comparison and logic operators")
struct ElementWiseOperatorTests {
    @Test func arithmeticIsUnguarded() throws {
        expectSeries(try evaluate("$close / ($close - 1)", close: [1, 0, 2]), [.infinity, 0, 2])
        expectSeries(try evaluate("Log($close)", close: [0, -1, 1]), [-.infinity, nan, 0])
        expectSeries(try evaluate("($close - $close) / ($close - $close)", close: [1]), [nan])
        expectSeries(try evaluate("$close ** 2 + -$close", close: [3, nan]), [6, nan])
        expectSeries(try evaluate("Power($close, 0.5)", close: [4]), [2])
        expectSeries(try evaluate("2 ** 3 ** 2", close: [0]), [512])  // right-associative
        expectSeries(try evaluate("-2 ** 2", close: [0]), [-4])       // unary minus binds looser than **
    }

    @Test func signAbsGreaterLess() throws {
        expectSeries(try evaluate("Sign($close)", close: [-3, 0, 2, nan]), [-1, 0, 1, nan])
        expectSeries(try evaluate("Abs($close)", close: [-3, nan]), [3, nan])
        expectSeries(try evaluate("Greater($close, 1)", close: [0, 2, nan]), [1, 2, nan])
        expectSeries(try evaluate("Less($close, 1)", close: [0, 2, nan]), [0, 1, nan])
    }

    @Test func comparisonsWithNaNAreFalseExceptNe() throws {
        let x = [1.0, nan, 3]
        expectSeries(try evaluate("$close > 2", close: x), [0, 0, 1])
        expectSeries(try evaluate("$close >= 1", close: x), [1, 0, 1])
        expectSeries(try evaluate("$close < 2", close: x), [1, 0, 0])
        expectSeries(try evaluate("$close <= 3", close: x), [1, 0, 1])
        expectSeries(try evaluate("$close == 3", close: x), [0, 0, 1])
        expectSeries(try evaluate("$close != 3", close: x), [1, 1, 0])
        expectSeries(try evaluate("Gt($close, 2)", close: x), [0, 0, 1])
    }

    @Test func logicBindsLooserThanComparison() throws {
        let x = [5.0, 15, nan]
        expectSeries(try evaluate("$close > 10 & $close < 20", close: x), [0, 1, 0])
        expectSeries(try evaluate("$close < 10 | $close > 12", close: x), [1, 1, 0])
        expectSeries(try evaluate("Not($close > 10)", close: x), [1, 0, 1])
        expectSeries(try evaluate("And($close > 1, Or($close > 100, $close < 10))", close: x), [1, 0, 0])
    }

    @Test func ifTreatsNaNConditionAsTrue() throws {
        expectSeries(try evaluate("If($close - 2, 1, -1)", close: [2, 3, nan]), [-1, 1, 1])
        expectSeries(try evaluate("If($close > 2, $close, 0)", close: [1, 3]), [0, 3])
    }
}

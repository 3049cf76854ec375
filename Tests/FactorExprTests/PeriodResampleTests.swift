import FactorCore
@testable import FactorExpr
import Testing

@Suite("TResample: the aggregate of the previous calendar period")
struct PeriodResampleTests {
    // makeData's calendar is consecutive days from Sunday 2019-04-14: row 0 closes one week, rows 1–7 are the week
    // of Monday 2019-04-15, rows 8–14 the week of Monday 2019-04-22.
    let close: [Double] = [1, 2, 3, .nan, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    var lastWeek: [Double] { [2, 3, 5, 6, 7, 8] }

    @Test func eachRowReadsThePreviousWeekOnly() throws {
        func row(_ first: Double, _ second: Double) -> [Double] { [nan] + Array(repeating: first, count: 7) + Array(repeating: second, count: 7) }
        expectSeries(try evaluate("TResample($close, 'W', 'last')", close: close), row(1, 8))
        expectSeries(try evaluate("TResample($close, 'w', 'first')", close: close), row(1, 2))
        expectSeries(try evaluate("TResample($close, 'W', 'mean')", close: close), row(1, 31.0 / 6))
        expectSeries(try evaluate("TResample($close, 'W', 'sum')", close: close), row(1, 31))
        expectSeries(try evaluate("TResample($close, 'W', 'count')", close: close), row(1, 6))
        expectSeries(try evaluate("TResample($close, 'W', 'max')", close: close), row(1, 8))
        expectSeries(try evaluate("TResample($close, 'W', 'min')", close: close), row(1, 2))
        let mean = 31.0 / 6
        let variance = lastWeek.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5
        expectSeries(try evaluate("TResample($close, 'W', 'var')", close: close), row(nan, variance))
        expectSeries(try evaluate("TResample($close, 'W', 'std')", close: close), row(nan, variance.squareRoot()))
    }

    @Test func aPeriodOfOnlyNaNGivesNaNAndCountZero() throws {
        var x = close
        for t in 1...7 { x[t] = .nan }
        let last = try evaluate("TResample($close, 'W', 'last')", close: x)
        expectSeries(Array(last[8...]), Array(repeating: nan, count: 7))
        let count = try evaluate("TResample($close, 'W', 'count')", close: x)
        expectSeries(Array(count[8...]), Array(repeating: 0, count: 7))
        let sum = try evaluate("TResample($close, 'W', 'sum')", close: x)
        expectSeries(Array(sum[8...]), Array(repeating: nan, count: 7))
    }

    @Test func monthsQuartersAndDaysFollowTheCalendar() throws {
        // 40 days from 2019-04-14: April is rows 0–16, May rows 17–39.
        let x = (0..<40).map { Double($0) }
        let month = try evaluate("TResample($close, 'M', 'mean')", close: x)
        expectSeries(Array(month[0...16]), Array(repeating: nan, count: 17))
        expectSeries(Array(month[17...]), Array(repeating: 8, count: 23))
        let quarter = try evaluate("TResample($close, 'Q', 'last')", close: x)
        expectSeries(quarter, Array(repeating: nan, count: 40))
        // On daily rows, the previous day is the previous row.
        expectSeries(try evaluate("TResample($close, '1d', 'last')", close: x), try evaluate("Ref($close, 1)", close: x))
    }

    @Test func anInstrumentListedMidWeekAggregatesOnlyItsOwnRows() throws {
        let d = makeData(["close": [close, close]], spans: [0..<15, 3..<15])
        let r = try evaluate("TResample($close, 'W', 'mean')", d)
        expectSeries(r[1], Array(repeating: nan, count: 8) + Array(repeating: 26.0 / 4, count: 7))
        expectSeries(Array(r[0][8...]), Array(repeating: 31.0 / 6, count: 7))
    }

    @Test func theCheckerNamesABadPeriodOrAggregationAndTheCanonicalTextIsOne() throws {
        let checker = Checker(fields: ["close"])
        #expect(CanonicalForm.text(try checker.check("TResample($close, 'week', 'LAST')")) == "TResample($close,'W','last')")
        #expect(CanonicalForm.text(try checker.check("TResample($close, 'ME', 'mean')")) == "TResample($close,'M','mean')")
        #expect { _ = try checker.check("TResample($close, '5min', 'last')") } throws: { error in
            guard let e = error as? ExpressionError else { return false }
            return e.position == 19 && "\(e)".contains("unknown period '5min'")
        }
        #expect { _ = try checker.check("TResample($close, 'W', 'avg')") } throws: { "\($0)".contains("unknown aggregation 'avg'") }
        #expect { _ = try checker.check("TResample($close, 7, 'last')") } throws: { "\($0)".contains("must be a string") }
        #expect(Lookback.of(try checker.check("TResample($close, 'W', 'last')")).rowsBefore == nil)
    }
}

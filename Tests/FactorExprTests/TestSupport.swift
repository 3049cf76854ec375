import FactorCore
@testable import FactorExpr
import Testing

/// Builds a small MarketData by hand: series per instrument for each field, each laid from row 0 on a daily
/// calendar; NaN marks missing rows. `spans` defaults to every row.
func makeData(_ fields: [String: [[Double]]], spans: [Range<Int>]? = nil, membership: Membership? = nil,
              auxiliary: [String: AuxiliarySeries] = [:]) -> MarketData {
    let first = fields.values.first!
    let n = first.count, length = first[0].count
    let calendar = MarketCalendar(times: (0..<length).map { Timestamp(86_400 * (18_000 + $0)) }, frequency: .day)
    var panels: [String: Panel] = [:]
    for (name, rows) in fields { panels[name] = Panel(instrumentCount: n, length: length, values: rows.flatMap { $0 }) }
    return MarketData(instruments: (0..<n).map { "SH60000\($0)" }, calendar: calendar,
                      spans: spans ?? Array(repeating: 0..<length, count: n), fields: panels,
                      membership: membership, auxiliary: auxiliary)
}

/// Evaluates one expression over `data`, returning each instrument's series.
func evaluate(_ text: String, _ data: MarketData) throws -> [[Double]] {
    let expr = try Checker(fields: Set(data.fields.keys)).check(text)
    let plan = Plan.compile([("x", expr)])
    let panel = try Evaluator(threads: 2).evaluate(plan, on: data)[0]
    return (0..<panel.instrumentCount).map { Array(panel.series($0)) }
}

/// One-instrument shortcut.
func evaluate(_ text: String, close: [Double]) throws -> [Double] {
    try evaluate(text, makeData(["close": [close]]))[0]
}

/// Element-wise comparison where NaN equals NaN and numbers agree within `tolerance`.
func expectSeries(_ actual: [Double], _ expected: [Double], tolerance: Double = 1e-12,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "length \(actual.count) != \(expected.count)", sourceLocation: sourceLocation)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        if e.isNaN {
            #expect(a.isNaN, "row \(i): expected NaN, got \(a)", sourceLocation: sourceLocation)
        } else if e.isInfinite {
            #expect(a == e, "row \(i): expected \(e), got \(a)", sourceLocation: sourceLocation)
        } else {
            #expect(abs(a - e) <= tolerance * max(1, abs(e)), "row \(i): expected \(e), got \(a)", sourceLocation: sourceLocation)
        }
    }
}

let nan = Double.nan

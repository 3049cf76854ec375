import FactorCore
@testable import FactorExpr
import Testing

@Suite("Cross-sectional operators over point-in-time membership")
struct CrossSectionOperatorTests {
    /// Three instruments over four dates; instrument 2 joins the universe on row 2, instrument 0 leaves after row 2.
    let data = makeData(
        ["close": [[1, 2, 3, 4], [3, 1, 3, 8], [2, 5, 1, 2]]],
        membership: Membership(rows: [[0..<3], [0..<4], [2..<4]], length: 4))

    @Test func csRankRanksOnlyTodaysMembers() throws {
        let r = try evaluate("CSRank($close)", data)
        expectSeries(r[0], [0.5, 1, 2.5 / 3, nan])
        expectSeries(r[1], [1, 0.5, 2.5 / 3, 1])
        expectSeries(r[2], [nan, nan, 1.0 / 3, 0.5])
    }

    @Test func csZScoreDemeanScale() throws {
        let z = try evaluate("CSZScore($close)", data)
        // Row 2: members 3, 3, 1 → mean 7/3, std sqrt(4/3)
        let sd = (4.0 / 3).squareRoot()
        expectSeries([z[0][2], z[1][2], z[2][2]], [(3 - 7.0 / 3) / sd, (3 - 7.0 / 3) / sd, (1 - 7.0 / 3) / sd])
        expectSeries([z[1][3], z[2][3]], [(8 - 5) / 18.0.squareRoot(), (2 - 5) / 18.0.squareRoot()])
        let d = try evaluate("CSDemean($close)", data)
        expectSeries(d.map { $0[0] }, [-1, 1, nan])
        let s = try evaluate("CSScale($close - 2)", data)
        expectSeries(s.map { $0[3] }, [nan, 1, 0])
    }

    @Test func crossSectionalNestsInsideTimeSeries() throws {
        let r = try evaluate("Mean(CSRank($close), 2)", data)
        expectSeries(r[1], [1, 0.75, (0.5 + 2.5 / 3) / 2, (2.5 / 3 + 1) / 2])
        expectSeries(r[2], [nan, nan, 1.0 / 3, (1.0 / 3 + 0.5) / 2])
    }

    @Test func changeInstrumentBroadcastsABenchmark() throws {
        let bench = AuxiliarySeries(span: 0..<4, fields: ["close": [10, 11, 12, 13]])
        let d = makeData(["close": [[1, 2, 3, 4], [2, 2, 2, 2]]], auxiliary: ["SH000300": bench])
        let out = try evaluate("$close / ChangeInstrument('SH000300', $close)", d)
        expectSeries(out[0], [0.1, 2.0 / 11, 0.25, 4.0 / 13])
        let beta = try evaluate("Cov($close, ChangeInstrument('SH000300', $close), 4)", d)
        expectSeries(beta[0], [nan, 0.5, 1, 5.0 / 3])
        #expect(throws: ExpressionEvaluationError.self) { try evaluate("ChangeInstrument('SH000905', $close)", d) }
    }

    @Test func qlibsMaskIsChangeInstrumentWithItsArgumentsSwapped() throws {
        let bench = AuxiliarySeries(span: 0..<4, fields: ["close": [10, 11, 12, 13]])
        let d = makeData(["close": [[1, 2, 3, 4], [2, 2, 2, 2]]], auxiliary: ["SH000300": bench])
        let masked = try evaluate("Mean(Mask($close, 'sh000300'), 2)", d)
        expectSeries(masked[0], [10, 10.5, 11.5, 12.5])
        expectSeries(masked[1], masked[0])
        let checker = Checker(fields: ["close"])
        #expect(CanonicalForm.text(try checker.check("Mask($close, 'SH000300')"))
                == CanonicalForm.text(try checker.check("ChangeInstrument('SH000300', $close)")))
        #expect { _ = try checker.check("Mask('SH000300', $close)") } throws: { "\($0)".contains("can only name an instrument") }
        #expect { _ = try checker.check("Mask($close, $open)") } throws: { "\($0)".contains("Mask($close, 'SH000300')") }
    }
}

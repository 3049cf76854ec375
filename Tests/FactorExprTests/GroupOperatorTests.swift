import FactorCore
@testable import FactorExpr
import Testing

/// Group operators and CSNeutralize on hand-made data (the conformance check against pandas on the real data is
/// interop/group_check.py).
@Suite("Group operators within categorical fields")
struct GroupOperatorTests {
    /// Five instruments over three dates: groups A (0, 1, 2) and B (3, 4); instrument 4 has no group on row 0 and
    /// moves to A on row 2; instrument 2 is not a member on row 1; instrument 1's value is NaN on row 2.
    static func data() -> MarketData {
        var d = makeData(["close": [[1, 5, 2], [4, 2, nan], [2, 3, 3], [10, 7, 1], [8, 9, 6]], "volume": [[1, 2, 3], [2, 3, 1], [3, 1, 2], [4, 4, 4], [5, 6, 5]]],
                         membership: Membership(rows: [[0..<3], [0..<3], [0..<1, 2..<3], [0..<3], [0..<3]], length: 3))
        // Codes: 0 = A, 1 = B.
        let codes: [[Int32]] = [[0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 1, 1], [-1, 1, 0]]
        d.categories["industry"] = CategoryPanel(instrumentCount: 5, length: 3, codes: codes.flatMap { $0 }, names: ["A", "B"])
        return d
    }

    @Test func groupRankZScoreDemeanWithinEachGroupAndDate() throws {
        let d = Self.data()
        let rank = try evaluate("GroupRank($close, $industry)", d)
        // Row 0: A = {1, 4, 2} → ranks 1/3, 1, 2/3; B = {10} → 1; instrument 4 has no group.
        expectSeries(rank.map { $0[0] }, [1.0 / 3, 1, 2.0 / 3, 1, nan])
        // Row 1: A = {5, 2} (2 is not a member) → 1, 1/2; B = {7, 9} → 1/2, 1.
        expectSeries(rank.map { $0[1] }, [1, 0.5, nan, 0.5, 1])
        // Row 2: A = {2, 3, 6} (1 is NaN, 4 joined) → 1/3, 2/3, 1; B = {1} → 1.
        expectSeries(rank.map { $0[2] }, [1.0 / 3, nan, 2.0 / 3, 1, 1])
        let demean = try evaluate("GroupDemean($close, $industry)", d)
        expectSeries(demean.map { $0[0] }, [1 - 7.0 / 3, 4 - 7.0 / 3, 2 - 7.0 / 3, 0, nan])
        expectSeries(try evaluate("GroupNeutralize($close, $industry)", d).map { $0[0] }, demean.map { $0[0] })
        let z = try evaluate("GroupZScore($close, $industry)", d)
        let sd = (((1 - 7.0 / 3) * (1 - 7.0 / 3) + (4 - 7.0 / 3) * (4 - 7.0 / 3) + (2 - 7.0 / 3) * (2 - 7.0 / 3)) / 2).squareRoot()
        expectSeries(z.map { $0[0] }, [(1 - 7.0 / 3) / sd, (4 - 7.0 / 3) / sd, (2 - 7.0 / 3) / sd, nan, nan])  // B: one value
    }

    @Test func csNeutralizeIsTheResidualOnYWithAnIntercept() throws {
        let d = Self.data()
        let out = try evaluate("CSNeutralize($close, $volume)", d)
        // Row 0: x = 1, 4, 2, 10, 8 on y = 1, 2, 3, 4, 5.
        let x = [1.0, 4, 2, 10, 8], y = [1.0, 2, 3, 4, 5]
        let mx = x.reduce(0, +) / 5, my = y.reduce(0, +) / 5
        let b = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / y.reduce(0) { $0 + ($1 - my) * ($1 - my) }
        expectSeries(out.map { $0[0] }, zip(x, y).map { ($0 - mx) - b * ($1 - my) })
        // Row 2 without instrument 1 (NaN x): four pairs.
        #expect(out[1][2].isNaN && out.map { $0[2] }.filter(\.isFinite).count == 4)
        // A constant y leaves x − mean(x).
        expectSeries(try evaluate("CSNeutralize($close, 1 + 0 * $volume)", d).map { $0[0] }, x.map { $0 - mx })
    }

    @Test func groupOperatorsNestInsideRollingWindows() throws {
        let d = Self.data()
        let out = try evaluate("Mean(GroupRank($close, $industry), 2)", d)
        expectSeries(out[0], [1.0 / 3, (1.0 / 3 + 1) / 2, (1 + 1.0 / 3) / 2])
    }

    @Test func categoricalFieldsOnlyNameGroups() throws {
        let checker = Checker(fields: ["close", "volume"])
        #expect(throws: ExpressionError.self) { try checker.check("$industry + 1") }
        do {
            _ = try checker.check("Mean($close, 5) / $industry")
            Issue.record("a categorical field in arithmetic was accepted")
        } catch {
            #expect(error.position == 19 && "\(error)".contains("categorical"))
        }
        do {
            _ = try checker.check("GroupRank($close, $volume)")
            Issue.record("a number field as groups was accepted")
        } catch {
            #expect(error.position == 19 && "\(error)".contains("categorical field"))
        }
        let expr = try checker.check("GroupRank($close, $Industry)")
        #expect(CanonicalForm.text(expr) == "GroupRank($close,$industry)")
        let plan = Plan.compile([("g", expr), ("s", try checker.check("GroupDemean($close, $sector)"))])
        #expect(plan.categories == ["industry", "sector"] && plan.usesCrossSection)
    }

    @Test func aMissingClassificationIsNamed() throws {
        let d = makeData(["close": [[1, 2], [3, 4]]])
        #expect { try evaluate("GroupRank($close, $industry)", d) } throws: { "\($0)".contains("no $industry classification") }
    }
}

import FactorCore
import Foundation
@testable import FactorExpr
import Testing

@Suite("WorldQuant's product and signedpower")
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
        expectSeries(try evaluate("SignedPower($close, 0.5)", close: x), [-2.0.squareRoot(), -0.5.squareRoot(), 0, 0.5.squareRoot(), 3.0.squareRoot(), nan])
        let checker = Checker(fields: ["close"])
        #expect(CanonicalForm.text(try checker.check("SignedPower($close, 2)"))
                == CanonicalForm.text(try checker.check("Sign($close) * Power(Abs($close), 2)")))
    }
}

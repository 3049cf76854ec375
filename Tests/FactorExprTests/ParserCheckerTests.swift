import FactorCore
@testable import FactorExpr
import Testing
import Foundation

@Suite("Parser and checker errors carry positions")
struct ParserCheckerTests {
    let checker = Checker(fields: ["open", "high", "low", "close", "volume", "factor"])

    func error(_ text: String) -> ExpressionError? {
        do { _ = try checker.check(text); return nil } catch { return error }
    }

    @Test func unknownFieldSuggestsTheClosest() throws {
        let e = try #require(error("Mean($clsoe, 5)"))
        #expect(e.kind == .unknownField)
        #expect(e.position == 6)
        #expect(e.suggestion == "$close")
        #expect(e.description.contains("$close $factor $high"))
    }

    @Test func unknownOperatorSuggestsTheClosest() throws {
        let e = try #require(error("$close / Meen($close, 5)"))
        #expect(e.kind == .unknownOperator)
        #expect(e.position == 10)
        #expect(e.suggestion == "Mean")
        #expect(error("mean($close, 5)")?.suggestion == "Mean")
        #expect(error("Stdev($close, 5)")?.suggestion == "Std")
    }

    @Test func wrongArity() throws {
        let e = try #require(error("Ref($close)"))
        #expect(e.kind == .arity)
        #expect(e.position == 1)
        #expect(e.message.contains("Ref(x, N)"))
        #expect(error("Corr($close, 5)")?.kind == .arity)
    }

    @Test func windowsMustBeIntegerLiterals() throws {
        let float = try #require(error("Mean($close, 5.5)"))
        #expect(float.kind == .argument)
        #expect(float.position == 14)
        let nonLiteral = try #require(error("Sum($close, $volume)"))
        #expect(nonLiteral.kind == .argument)
        #expect(nonLiteral.position == 13)
        #expect(error("Std($close, -3)")?.kind == .argument)
        #expect(error("Std($close, 0.5)") == nil)  // Qlib: any Rolling operator with 0 < N < 1 is the EWM mean
        #expect(error("Rank($close, 0.5)")?.kind == .argument)  // Rank overrides Qlib's Rolling load: no EWM form
        #expect(error("IdxMax($close, 0.5)")?.kind == .argument)
        #expect(error("Mean($close, 0.5)") == nil)
        #expect(error("Quantile($close, 5, 1.5)")?.kind == .argument)
        #expect(error("Not($close)")?.kind == .argument)
        #expect(error("EMA($close, 0)")?.kind == .argument)
    }

    @Test func unbalancedParentheses() throws {
        let open = try #require(error("Mean($close, 5"))
        #expect(open.kind == .syntax)
        #expect(open.position == 1)
        #expect(open.message.contains("not closed"))
        let close = try #require(error("Mean($close, 5))"))
        #expect(close.kind == .syntax)
        #expect(close.position == 16)
        #expect(error("($close + 1")?.position == 1)
        #expect(error("$close +")?.position == 9)
        #expect(error("$close = 1")?.position == 8)
        #expect(error("")?.kind == .syntax)
    }

    @Test func descriptionUnderlinesTheToken() throws {
        let e = try #require(error("Ref($close, 1) + Foo($open)"))
        #expect(e.description.hasSuffix("\n                   ^^^"))
    }

    @Test func fieldsAreCaseInsensitive() throws {
        #expect(error("$CLOSE / $Open") == nil)
    }
}

@Suite("Canonical form, hash, look-back and shared sub-expressions")
struct PlannerTests {
    @Test func equivalentSpellingsShareOneCanonicalText() throws {
        let a = try ExpressionInfo("$close+$open")
        let b = try ExpressionInfo("Add( $OPEN , $close )")
        #expect(a.canonical == b.canonical)
        #expect(a.hash == b.hash)
        #expect(a.hash.count == 64)
        #expect(try ExpressionInfo("Ref($close, 0) * 1").canonical == "Mul($close,1)")
        #expect(try ExpressionInfo("Sub($close, $open)").hash != ExpressionInfo("Sub($open, $close)").hash)
        #expect(try ExpressionInfo("Quantile($close, 5, 0.8)/$close").canonical == "Div(Quantile($close,5,0.8),$close)")
    }

    @Test func lookbackComesFromTheTree() throws {
        #expect(try ExpressionInfo("Mean(Ref($close, 5), 10)").lookback == Lookback(rowsBefore: 14, rowsAfter: 0))
        #expect(try ExpressionInfo("Ref($close, -2)/Ref($close, -1) - 1").lookback == Lookback(rowsBefore: 0, rowsAfter: 2))
        #expect(try ExpressionInfo("Corr($close, Log($volume+1), 60)").lookback.rowsBefore == 59)
        #expect(try ExpressionInfo("EMA($close, 10)").lookback.rowsBefore == nil)
        #expect(try ExpressionInfo("Mean($close, 0)").lookback.rowsBefore == nil)
    }

    @Test func equalSubExpressionsRunOnce() throws {
        let exprs = ["Mean($close, 5)/$close", "Std($close, 5)/$close", "Mean($close,5) - Std($close, 5)"]
        let plan = Plan.compile(try exprs.enumerated().map { ("f\($0.offset)", try Checker().check($0.element)) })
        let canon = plan.nodes.map(\.canonical)
        #expect(Set(canon).count == canon.count)
        #expect(canon.filter { $0 == "Mean($close,5)" }.count == 1)
        #expect(plan.nodes.count == 6)  // $close, Mean, Div, Std, Div, Sub
        #expect(plan.fields == ["close"])
    }

    @Test func resultsDoNotDependOnTheStartRow() throws {
        // Evaluate on the full series and on the series cut just after the look-back: identical from there on.
        var x: [Double] = []
        for i in 0..<80 { x.append(100 + sin(Double(i)) * 5 + Double(i % 7)) }
        let text = "Corr(Mean($close, 5), Ref($close, 3), 10) + Rank(Delta($close, 2), 6)"
        let info = try ExpressionInfo(text)
        let lookback = try #require(info.lookback.rowsBefore)
        let full = try evaluate(text, close: x)
        let start = 40
        let cut = try evaluate(text, close: Array(x[(start - lookback)...]))
        expectSeries(Array(cut[lookback...]), Array(full[start...]), tolerance: 1e-12)
    }
}

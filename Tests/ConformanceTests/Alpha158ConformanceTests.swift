import FactorCore
import FactorData
import FactorExpr
import FactorTestSupport
import Foundation
import Testing

/// Alpha158 and its label against the values Qlib 0.9.7 computed (`../shared/reference/`), with the tolerances
/// measured and explained in the reference READMEs. NaN positions must agree exactly.
@Suite(.enabled(if: SharedReference.available, "needs ../shared/reference"), .serialized)
struct Alpha158ConformanceTests {
    static let expressions = Alpha158.features.map { NamedExpression(name: $0.name, text: $0.expression) }
        + [NamedExpression(name: Alpha158.label.name, text: Alpha158.label.expression)]

    /// Columns whose inner series Qlib rounds to float32 (reference README): they get the looser tolerance.
    static func isFloat32Sensitive(_ column: String) -> Bool {
        column.hasPrefix("CORR") || column.hasPrefix("CORD") || column.hasPrefix("WVMA")
    }

    /// Loads `universe` from `source`, optionally rounds every field to float32 (what a Qlib `.bin` stores),
    /// and evaluates Alpha158 + LABEL0 over the whole calendar.
    static func compute(_ source: any MarketDataSource, universe: UniverseSpec, roundToFloat32: Bool) throws
        -> (data: MarketData, panels: [String: Panel]) {
        let available = try source.fieldNames()
        let plan = try FeatureComputation.compile(expressions, fields: nil)
        var data = try source.load(DataRequest(universe: universe, fields: plan.fields.filter { available.contains($0) },
                                               lookbackRows: plan.lookback.rowsBefore,
                                               lookaheadRows: plan.lookback.rowsAfter)).data
        for f in plan.fields where !available.contains(f) {
            data.fields[f] = Panel(instrumentCount: data.instruments.count, length: data.calendar.count)
        }
        if roundToFloat32 {
            for (name, panel) in data.fields {
                data.fields[name] = Panel(instrumentCount: panel.instrumentCount, length: panel.length,
                                          values: panel.values.map { Double(Float($0)) })
            }
        }
        let panels = try Evaluator(threads: 2).evaluate(plan, on: data)
        return (data, Dictionary(uniqueKeysWithValues: zip(expressions.map(\.name), panels)))
    }

    /// Compares every cell of the reference with FactorLab's values; returns per-column results.
    static func compare(_ reference: ReferenceTable, _ data: MarketData, _ panels: [String: Panel],
                        tolerance: (String) -> (rtol: Double, atol: Double)) throws -> [ColumnComparison] {
        var comparisons = reference.columns.map { ColumnComparison(column: $0) }
        let columnPanels = try reference.columns.map { try #require(panels[$0], "no FactorLab column \($0)") }
        let tolerances = reference.columns.map(tolerance)
        var dateIndex: [String: Int] = [:]
        for t in 0..<data.calendar.count { dateIndex[data.calendar.label(t)] = t }
        var instrumentIndex: [String: Int] = [:]
        for (i, code) in data.instruments.enumerated() { instrumentIndex[code] = i }
        var rowsPerInstrument: [Int: Int] = [:]
        for (r, key) in reference.keys.enumerated() {
            let i = try #require(instrumentIndex[key.0], "reference instrument \(key.0) not loaded")
            let t = try #require(dateIndex[key.1], "reference date \(key.1) not on the calendar")
            #expect(data.spans[i].contains(t), "\(key.0) \(key.1) is outside the instrument's span \(data.spans[i])")
            rowsPerInstrument[i, default: 0] += 1
            for c in 0..<comparisons.count {
                comparisons[c].add(actual: columnPanels[c][i, t], expected: reference.values[r][c],
                                   rtol: tolerances[c].rtol, atol: tolerances[c].atol, key: "\(key.0) \(key.1)")
            }
        }
        // Every instrument-calendar day of each span is a reference row, and no other.
        for (i, count) in rowsPerInstrument { #expect(count == data.spans[i].count, "\(data.instruments[i]): \(count) rows vs span \(data.spans[i].count)") }
        return comparisons
    }

    static func report(_ comparisons: [ColumnComparison], sourceLocation: SourceLocation = #_sourceLocation) {
        let bad = comparisons.filter { $0.failures > 0 || $0.nanMismatches > 0 }
        for c in bad { Issue.record("\(c)", sourceLocation: sourceLocation) }
        let cells = comparisons.reduce(0) { $0 + $1.compared }
        print("compared \(cells) cells in \(comparisons.count) columns; \(bad.count) columns outside tolerance")
    }

    @Test("Edge-case set through the CSV source (Double inputs): rtol 1e-3, atol 1e-5")
    func edgeSetFromCSV() async throws {
        try await blocking {
            let source = try DataSources.open(directory: SharedReference.path("reference/qlib_edge/input_csv"), kind: .csv,
                                              cacheDirectory: NSTemporaryDirectory() + "factorlab-test-cache")
            let (data, panels) = try Self.compute(source, universe: .all, roundToFloat32: false)
            let reference = ReferenceTable(csv: try SharedReference.text("reference/qlib_edge/alpha158_expected.csv"))
            #expect(reference.keys.count == 905)
            Self.report(try Self.compare(reference, data, panels) { _ in (1e-3, 1e-5) })
        }
    }

    @Test("Edge-case set with float32-rounded inputs: rtol 1e-5 / atol 1e-7 (CORR, CORD, WVMA: 1e-4 / 1e-6)")
    func edgeSetFromFloat32Inputs() async throws {
        try await blocking {
            let source = try DataSources.open(directory: SharedReference.path("reference/qlib_edge/input_csv"), kind: .csv,
                                              cacheDirectory: NSTemporaryDirectory() + "factorlab-test-cache")
            let (data, panels) = try Self.compute(source, universe: .all, roundToFloat32: true)
            let reference = ReferenceTable(csv: try SharedReference.text("reference/qlib_edge/alpha158_expected.csv"))
            Self.report(try Self.compare(reference, data, panels) { Self.isFloat32Sensitive($0) ? (1e-4, 1e-6) : (1e-5, 1e-7) })
        }
    }

    @Test("30 real instruments through the Qlib binary source: rtol 1e-5 / atol 1e-7 (CORR, CORD, WVMA: 1e-3 / 1e-3)")
    func realSetFromQlibBinary() async throws {
        try await blocking {
            let source = try DataSources.open(directory: SharedReference.path("data/cn_csi300_daily/qlib_sample"), kind: .qlib)
            let (data, panels) = try Self.compute(source, universe: .all, roundToFloat32: false)
            #expect(data.instruments.count == 30)
            let reference = ReferenceTable(csv: try SharedReference.text("reference/qlib_alpha158_cn30/alpha158.csv.gz"))
            #expect(reference.keys.count == 41_404)
            Self.report(try Self.compare(reference, data, panels) { Self.isFloat32Sensitive($0) ? (1e-3, 1e-3) : (1e-5, 1e-7) })
            // The data has no vwap: VWAP0 is NaN everywhere, as in Qlib.
            let vwap = try #require(panels["VWAP0"])
            #expect(vwap.values.allSatisfy { $0.isNaN })
        }
    }

    @Test("30 real instruments through the CSV source (Double inputs): rtol 1e-3 / atol 1e-3")
    func realSetFromCSV() async throws {
        try await blocking {
            let codes = try String(contentsOfFile: SharedReference.path("data/cn_csi300_daily/qlib_sample/instruments/all.txt"), encoding: .utf8)
                .split(separator: "\n").map { String($0.split(separator: "\t")[0]) }
            #expect(codes.count == 30)
            let source = try DataSources.open(directory: SharedReference.path("data/cn_csi300_daily"), kind: .csv,
                                              cacheDirectory: NSTemporaryDirectory() + "factorlab-test-cache")
            let (data, panels) = try Self.compute(source, universe: .codes(codes), roundToFloat32: false)
            let reference = ReferenceTable(csv: try SharedReference.text("reference/qlib_alpha158_cn30/alpha158.csv.gz"))
            Self.report(try Self.compare(reference, data, panels) { _ in (1e-3, 1e-3) })
        }
    }
}

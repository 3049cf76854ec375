import FactorCore
import FactorData
@testable import FactorExpr
import Foundation
import Testing

/// The hand-made fixture in Tests/Fixtures/pit (its README lists the reports); expected values worked out by hand.
@Suite("Point-in-time fundamentals: P, PRef and $$ fields on the fixture")
struct PointInTimeTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/pit").path

    /// Each expression's series per instrument (SH600000, SZ000001) over the eleven trading days.
    func run(_ expressions: [String], directory: String = fixture) throws -> [[[Double]]] {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("factorlab-pit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let source = try CSVDirectorySource(directory: directory, cacheDirectory: cache)
        let request = FeatureRequest(expressions: expressions.enumerated().map { NamedExpression(name: "e\($0.offset)", text: $0.element) })
        let result = try FeatureComputation.run(request, source: source)
        #expect(result.data.instruments == ["SH600000", "SZ000001"])
        return result.panels.map { panel in (0..<panel.instrumentCount).map { Array(panel.series($0)) } }
    }

    // Rows: 04-22 23 24 25 26 | 04-29 30 05-01 02 03 | 05-06.
    @Test func theLatestPeriodAsKnownOnEachDate() throws {
        let r = try run(["P($$roe_q)", "P($$ROE_Q)"])
        expectSeries(r[0][0], [0.100, 0.100, 0.100, 0.030, 0.030, 0.030, 0.030, 0.030, 0.030, 0.030, 0.032])
        // Nothing known on 04-22; 2018Q3 from 04-23; 2019Q1 from 04-30.
        expectSeries(r[0][1], [nan, 0.080, 0.080, 0.080, 0.080, 0.080, 0.025, 0.025, 0.025, 0.025, 0.025])
        expectSeries(r[1][0], r[0][0])
    }

    @Test func aRevisionNeverAppearsBeforeItsAnnouncement() throws {
        let r = try run(["PRef($$roe_q, 201804)", "PRef($$roe_q, 201901)", "P(Ref($$roe_q, 1))", "P($$eps_a)", "PRef($$eps_a, 2018)"])
        // 2018Q4 revised from 0.100 to 0.105 on 04-29 (a Monday): the old value through 04-26, the new one after.
        expectSeries(r[0][0], [0.100, 0.100, 0.100, 0.100, 0.100, 0.105, 0.105, 0.105, 0.105, 0.105, 0.105])
        // 2019Q1 first reported 04-25; its revision announced on Saturday 05-04 shows from Monday 05-06.
        expectSeries(r[1][0], [nan, nan, nan, 0.030, 0.030, 0.030, 0.030, 0.030, 0.030, 0.030, 0.032])
        // The quarter before the latest, as known then: none while 2018Q4 is the latest; then 2018Q4 with its revision.
        expectSeries(r[2][0], [nan, nan, nan, 0.100, 0.100, 0.105, 0.105, 0.105, 0.105, 0.105, 0.105])
        expectSeries(r[3][0], [1.20, 1.20, 1.20, 1.20, 1.25, 1.25, 1.25, 1.25, 1.25, 1.25, 1.25])
        expectSeries(r[4][0], r[3][0])
        // SZ000001 never reported eps_a.
        expectSeries(r[3][1], Array(repeating: nan, count: 11))
        // A period not yet reported is NaN, and one never reported stays NaN.
        expectSeries(r[1][1], [nan, nan, nan, nan, nan, nan, 0.025, 0.025, 0.025, 0.025, 0.025])
    }

    @Test func expressionsRunOverTheReportedPeriods() throws {
        let r = try run(["P(Mean($$roe_q, 2))", "P(Mean($$roe_q, 3))", "P($$roe_q - Ref($$roe_q, 1))", "P($$roe_q) * $close"])
        expectSeries(r[0][0], [0.100, 0.100, 0.100, 0.065, 0.065, 0.0675, 0.0675, 0.0675, 0.0675, 0.0675, 0.0685])
        // SZ000001 on 04-30: periods 2018Q3, 2018Q4 (never reported: NaN), 2019Q1; Mean skips the NaN (min_periods=1).
        expectSeries(r[1][1], [nan, 0.080, 0.080, 0.080, 0.080, 0.080, 0.0525, 0.0525, 0.0525, 0.0525, 0.0525])
        expectSeries(r[2][0], [nan, nan, nan, -0.070, -0.070, -0.075, -0.075, -0.075, -0.075, -0.075, -0.073])
        // P(…) is an ordinary series afterwards: it combines with bar fields row by row.
        expectSeries(r[3][0], [0.100 * 10.0, 0.100 * 10.1, 0.100 * 10.2, 0.030 * 10.3, 0.030 * 10.4, 0.030 * 10.5, 0.030 * 10.6,
                               0.030 * 10.7, 0.030 * 10.8, 0.030 * 10.9, 0.032 * 11.0])
    }

    @Test func theCheckerKeepsPeriodsAndBarsApart() throws {
        let checker = Checker(fields: ["close"])
        func refused(_ text: String, _ fragment: String, at position: Int) {
            do {
                _ = try checker.check(text)
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.position == position && "\(error)".contains(fragment), "\(error)")
            }
        }
        refused("$$roe_q / $close", "read it through P($$roe_q)", at: 1)
        refused("P($close)", "bar field", at: 3)
        refused("P($$roe_q + $close)", "bar field", at: 13)
        refused("P(CSRank($$roe_q))", "cannot run inside P", at: 3)
        refused("P(Ref($$roe_q, -1))", "later period", at: 16)
        refused("P($$roe)", "must end in _q", at: 3)
        refused("P(1)", "must read a point-in-time field", at: 3)
        refused("P($$roe_q + $$eps_a)", "mixes quarterly", at: 11)
        refused("PRef($$roe_q, 201805)", "not a quarter", at: 15)
        refused("PRef($$eps_a, 201801)", "not a year", at: 15)
        refused("PRef($close, 201801)", "point-in-time field first", at: 6)
        let expr = try checker.check("P(Mean($$ROE_Q, 4)) + PRef($$roe_q, 201804)")
        #expect(CanonicalForm.text(expr) == "Add(P(Mean($$roe_q,4)),PRef($$roe_q,201804))")
        let plan = Plan.compile([("x", expr)])
        #expect(plan.periodFields == ["roe_q"] && plan.fields.isEmpty && plan.lookback == Lookback(rowsBefore: 0, rowsAfter: 0))
    }

    @Test func missingReportsAreNamed() throws {
        #expect { try run(["P($$debt_q)"]) } throws: { "\($0)".contains("no reports of $$debt_q") && "\($0)".contains("$$roe_q") }
        // A directory without financial/.
        let bare = FileManager.default.temporaryDirectory.appendingPathComponent("factorlab-pit-bare-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: bare, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: bare) }
        try FileManager.default.copyItem(atPath: Self.fixture + "/SH600000_daily.csv", toPath: bare.path + "/SH600000_daily.csv")
        let cache = bare.path + "-cache"
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let source = try CSVDirectorySource(directory: bare.path, cacheDirectory: cache)
        #expect { try FeatureComputation.run(FeatureRequest(expressions: [NamedExpression(name: "x", text: "P($$roe_q)")]), source: source) } throws: {
            "\($0)".contains("needs point-in-time reports in") && "\($0)".contains("financial")
        }
    }

    @Test func badReportLinesAreNamedWithFileAndLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("factorlab-pit-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("financial"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(atPath: Self.fixture + "/SH600000_daily.csv", toPath: dir.path + "/SH600000_daily.csv")
        let cache = dir.path + "-cache"
        defer { try? FileManager.default.removeItem(atPath: cache) }
        for (body, fragment) in [("SH600000,201805,2019-04-25,roe_q,0.1", "line 2: period '201805'"),
                                 ("SH600000,201901,2019-04-25,roe,0.1", "line 2: field 'roe' must end in _q"),
                                 ("SH600000,201901,someday,roe_q,0.1", "line 2: announce_date 'someday'"),
                                 ("SH600000,201901,2019-04-25,roe_q,abc", "line 2: value 'abc'")] {
            try ("code,period,announce_date,field,value\n" + body + "\n").write(toFile: dir.path + "/financial/r.csv", atomically: true, encoding: .utf8)
            let source = try CSVDirectorySource(directory: dir.path, cacheDirectory: cache)
            #expect { try FeatureComputation.run(FeatureRequest(expressions: [NamedExpression(name: "x", text: "P($$roe_q)")]), source: source) } throws: {
                "\($0)".contains("r.csv") && "\($0)".contains(fragment)
            }
        }
    }

    @Test func qlibsBinaryLayoutReadsAsTheCSVLayoutDoes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("factorlab-pit-qlib-\(UUID().uuidString)")
        let folder = dir.appendingPathComponent("financial/sh600000")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["SH600000_daily.csv", "SZ000001_daily.csv"] {
            try FileManager.default.copyItem(atPath: Self.fixture + "/" + name, toPath: dir.path + "/" + name)
        }
        // SH600000's roe_q reports as Qlib's dump_pit writes them: date, period, value, next revision's offset.
        let none = UInt32.max
        let records: [(UInt32, UInt32, Double, UInt32)] = [(20190328, 201804, 0.100, 40), (20190425, 201901, 0.030, 60),
                                                           (20190429, 201804, 0.105, none), (20190504, 201901, 0.032, none)]
        var bytes = Data()
        for (date, period, value, next) in records {
            withUnsafeBytes(of: date.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: period.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: next.littleEndian) { bytes.append(contentsOf: $0) }
        }
        try bytes.write(to: folder.appendingPathComponent("roe_q.data"))
        var index = Data()
        for word in [UInt32(2018), none, none, none, 0, 20] { withUnsafeBytes(of: word.littleEndian) { index.append(contentsOf: $0) } }
        try index.write(to: folder.appendingPathComponent("roe_q.index"))
        let expressions = ["P($$roe_q)", "P(Mean($$roe_q, 2))", "PRef($$roe_q, 201804)"]
        let binary = try run(expressions, directory: dir.path), csv = try run(expressions)
        for k in expressions.indices { expectSeries(binary[k][0], csv[k][0], tolerance: 0) }
        expectSeries(binary[0][1], Array(repeating: nan, count: 11))  // SZ000001 has no binary reports

        try bytes.prefix(39).write(to: folder.appendingPathComponent("roe_q.data"))
        #expect { try run(["P($$roe_q)"], directory: dir.path) } throws: { "\($0)".contains("roe_q.data") && "\($0)".contains("20-byte records") }
    }
}

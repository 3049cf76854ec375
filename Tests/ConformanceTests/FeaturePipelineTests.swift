import FactorCore
import FactorData
import FactorExpr
import FactorTestSupport
import Foundation
import Testing

/// `factorlab features` end to end on the real data: point-in-time universes, start-date independence,
/// intraday and resampled frequencies, and the CSV format.
@Suite(.enabled(if: SharedReference.available, "needs ../shared"), .serialized)
struct FeaturePipelineTests {
    static let cache = NSTemporaryDirectory() + "factorlab-test-cache"

    static func csi300Source() throws -> any MarketDataSource {
        try DataSources.open(directory: SharedReference.path("data/cn_csi300_daily"), kind: .csv, cacheDirectory: cache)
    }

    static func alpha158() -> [NamedExpression] {
        Alpha158.features.map { NamedExpression(name: $0.name, text: $0.expression) }
            + [NamedExpression(name: Alpha158.label.name, text: Alpha158.label.expression)]
    }

    @Test("csi300 expands to its members on each date (the old pipeline passed the name through unexpanded)")
    func csi300ExpandsPointInTime() async throws {
        try await blocking {
            let request = FeatureRequest(universe: .named("csi300"), start: TimeFormat.parse("2018-12-01"),
                                         end: TimeFormat.parse("2021-06-30"),
                                         expressions: [NamedExpression(name: "ROC5", text: "Ref($close, 5)/$close")])
            let result = try FeatureComputation.run(request, source: try Self.csi300Source())
            let cells = result.outputCells()
            #expect(!cells.isEmpty)
            // SH600004 is a member from 2018-12-17 through 2021-06-10 (inclusive) only.
            let i = try #require(result.data.instrumentIndex("SH600004"))
            let dates = cells.filter { $0.instrument == i }.map { result.data.calendar.label($0.row) }
            #expect(dates.first == "2018-12-17")
            #expect(dates.last == "2021-06-10")
            // Every date has a full cross-section of members (285–298 per day in this data), never an empty label.
            var perDate: [Int: Int] = [:]
            for c in cells { perDate[c.row, default: 0] += 1 }
            #expect(perDate.values.allSatisfy { $0 >= 280 && $0 <= 300 })
            // Values come from each instrument's whole history: the first member day has a valid 5-day return.
            let first = try #require(cells.first { $0.instrument == i })
            #expect(result.panels[0][first.instrument, first.row].isFinite)
        }
    }

    @Test("Results do not depend on the requested start date")
    func startDateIndependence() async throws {
        try await blocking {
            let source = try DataSources.open(directory: SharedReference.path("data/cn_csi300_daily/qlib_sample"), kind: .qlib)
            let expressions = Self.alpha158().filter { $0.name != "VWAP0" }
                + [NamedExpression(name: "CS", text: "Rank(CSRank($close/Ref($close, 5)), 9)")]
            let start = try #require(TimeFormat.parse("2021-03-01"))
            try Self.expectSameValues(expressions, from: start, source: source, trimmed: true)
            // EMA depends on the whole history: the look-back is "everything", so the late query loads it all.
            try Self.expectSameValues([NamedExpression(name: "EMA10", text: "EMA($close, 10)")], from: start, source: source, trimmed: false)
        }
    }

    @Test("A cross-sectional operator inside a time-series one ranks the look-back rows' members, whatever the start")
    func crossSectionInsideTimeSeriesAcrossARebalance() async throws {
        try await blocking {
            // CSI 300 rebalanced on 2020-06-12: members who left then are in the 60-row look-back of July 2020.
            let expressions = [NamedExpression(name: "CSMEAN", text: "Mean(CSRank($close), 60)")]
            let source = try Self.csi300Source()
            func run(_ start: String) throws -> FeatureResult {
                try FeatureComputation.run(FeatureRequest(universe: .named("csi300"), start: TimeFormat.parse(start), end: TimeFormat.parse("2020-07-31"),
                                                          expressions: expressions), source: source)
            }
            let late = try run("2020-07-01"), early = try run("2020-01-02")
            var compared = 0
            for (i, t) in late.outputCells() {
                let ei = try #require(early.data.instrumentIndex(late.data.instruments[i]))
                let et = try #require(early.data.calendar.index(of: late.data.calendar.times[t]))
                let a = late.panels[0][i, t], b = early.panels[0][ei, et]
                if !((a.isNaN && b.isNaN) || abs(a - b) <= 1e-12) { Issue.record("\(late.data.instruments[i]) \(late.data.calendar.label(t)): \(a) vs \(b)") }
                compared += 1
            }
            #expect(compared > 6_000)
        }
    }

    static func expectSameValues(_ expressions: [NamedExpression], from start: Timestamp, source: any MarketDataSource,
                                 trimmed: Bool) throws {
        let full = try FeatureComputation.run(FeatureRequest(expressions: expressions), source: source)
        let late = try FeatureComputation.run(FeatureRequest(start: start, expressions: expressions), source: source)
        #expect((late.data.calendar.count < full.data.calendar.count) == trimmed)  // only the look-back was loaded
        var compared = 0
        for (i, t) in late.outputCells() {
            let fi = try #require(full.data.instrumentIndex(late.data.instruments[i]))
            let ft = try #require(full.data.calendar.index(of: late.data.calendar.times[t]))
            for k in 0..<expressions.count {
                let a = late.panels[k][i, t], b = full.panels[k][fi, ft]
                let same = (a.isNaN && b.isNaN) || a == b || abs(a - b) <= 1e-9 * max(1, abs(b))
                if !same { Issue.record("\(expressions[k].name) \(late.data.instruments[i]) \(late.data.calendar.label(t)): \(a) vs \(b)") }
                compared += 1
            }
        }
        #expect(compared > 10_000)
    }

    @Test("Intraday bars: 5-minute ETF data evaluated at 5min, 15min and day")
    func intradayFrequencies() async throws {
        try await blocking {
            let source = try DataSources.open(directory: SharedReference.path("data/cn_etf_5min"), kind: .csv, cacheDirectory: Self.cache)
            #expect(source.baseFrequency == .minutes(5))
            let expressions = [NamedExpression(name: "RET", text: "$close/Ref($close, 1) - 1"),
                               NamedExpression(name: "RV", text: "Std($close/Ref($close, 1) - 1, 48)"),
                               NamedExpression(name: "VOL", text: "$volume")]
            let codes = UniverseSpec.codes(["SH510300"])
            let five = try FeatureComputation.run(FeatureRequest(universe: codes, expressions: expressions), source: source)
            #expect(five.outputCells().count == 62 * 48)
            #expect(five.data.calendar.label(0) == "2023-02-01 09:35:00")
            let fifteen = try FeatureComputation.run(FeatureRequest(universe: codes, frequency: .minutes(15), expressions: expressions), source: source)
            #expect(fifteen.outputCells().count == 62 * 16)
            let daily = try FeatureComputation.run(FeatureRequest(universe: codes, frequency: .day, expressions: expressions), source: source)
            #expect(daily.outputCells().count == 62)
            // A day's volume is the sum of its 48 five-minute volumes; a 15-minute bar's is the sum of three.
            let v5 = five.panels[2], v15 = fifteen.panels[2], vd = daily.panels[2]
            let firstDay = (0..<48).reduce(0.0) { $0 + v5[0, $1] }
            #expect(vd[0, 0] == firstDay)
            #expect(v15[0, 0] == v5[0, 0] + v5[0, 1] + v5[0, 2])
            #expect(fifteen.data.calendar.label(0) == "2023-02-01 09:45:00")
            #expect(daily.data.calendar.label(0) == "2023-02-01")
            // Windows count bars of the chosen frequency: RV at 5min covers one trading day of 5-minute returns.
            #expect(five.panels[1][0, 47].isFinite)
        }
    }

    @Test("Weekly and monthly features resample daily bars (close = last close of the period)")
    func weeklyAndMonthly() async throws {
        try await blocking {
            let source = try Self.csi300Source()
            let codes = UniverseSpec.codes(["SH600000"])
            let expr = [NamedExpression(name: "C", text: "$close"), NamedExpression(name: "MOM4", text: "$close/Ref($close, 4) - 1")]
            let daily = try FeatureComputation.run(FeatureRequest(universe: codes, expressions: expr), source: source)
            let weekly = try FeatureComputation.run(FeatureRequest(universe: codes, frequency: .week, expressions: expr), source: source)
            let monthly = try FeatureComputation.run(FeatureRequest(universe: codes, frequency: .month, expressions: expr), source: source)
            #expect(weekly.data.calendar.count > 290 && weekly.data.calendar.count < 320)
            #expect(monthly.data.calendar.count == 72)
            // Each weekly bar is labelled by its last trading day and carries that day's close.
            for t in 0..<weekly.data.calendar.count {
                let d = try #require(daily.data.calendar.index(of: weekly.data.calendar.times[t]))
                let dc = daily.panels[0][0, d], wc = weekly.panels[0][0, t]
                #expect(dc == wc || (dc.isNaN && wc.isFinite), "week \(weekly.data.calendar.label(t))")
            }
            #expect(monthly.data.calendar.label(0) == "2018-01-31")
            #expect(monthly.panels[1][0, 3].isNaN)
            #expect(monthly.panels[1][0, 4] == monthly.panels[0][0, 4] / monthly.panels[0][0, 0] - 1)
        }
    }

    @Test("CSV output: header, member rows sorted by instrument then date, empty NaN, inf, round-trip numbers")
    func csvFormat() async throws {
        try await blocking {
            let source = try Self.csi300Source()
            let request = FeatureRequest(universe: .codes(["SZ000001", "SH600000"]), start: TimeFormat.parse("2018-01-02"),
                                         end: TimeFormat.parse("2018-01-05"),
                                         expressions: [NamedExpression(name: "R1", text: "Ref($close, 1)"),
                                                       NamedExpression(name: "INF", text: "$close/0"),
                                                       NamedExpression(name: "C", text: "$close")])
            let result = try FeatureComputation.run(request, source: source)
            var text = ""
            FeatureOutput.writeCSV(result) { text += $0 }
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines[0] == "instrument,datetime,R1,INF,C")
            #expect(lines.count == 9)
            #expect(lines[1].hasPrefix("SH600000,2018-01-02,,inf,"))
            #expect(lines[5].hasPrefix("SZ000001,2018-01-02,"))
            // The first close round-trips the CSV text exactly.
            let csv = try String(contentsOfFile: SharedReference.path("data/cn_csi300_daily/SH600000_daily_hfq.csv"), encoding: .utf8)
            let firstClose = csv.split(separator: "\n")[1].split(separator: ",")[4]
            #expect(Double(lines[1].split(separator: ",", omittingEmptySubsequences: false)[4]) == Double(firstClose))
            let stats = FeatureOutput.stats(result)
            #expect(stats[1].inf == 8 && stats[1].valid == 0)
            #expect(stats[0].nan == 2 && stats[0].valid == 6)
        }
    }

    @Test("Streaming chunk by chunk writes the same CSV and statistics as the whole run", arguments: [false, true])
    func streamingMatchesWholeRun(crossSectional: Bool) async throws {
        try await blocking {
            var expressions = [NamedExpression(name: "MOM", text: "Ref($close, 20)/$close - 1"),
                               NamedExpression(name: "RNG", text: "Max($high, 10)/Min($low, 10)")]
            if crossSectional { expressions.append(NamedExpression(name: "CS", text: "CSRank($volume)")) }
            let request = FeatureRequest(universe: .named("csi300"), start: TimeFormat.parse("2022-06-01"),
                                         end: TimeFormat.parse("2022-08-31"), expressions: expressions)
            let whole = try FeatureComputation.run(request, source: try Self.csi300Source())
            var expected = ""
            FeatureOutput.writeCSV(whole) { expected += $0 }
            var streamed = FeatureOutput.csvHeader(whole.names)
            var stats = FeatureOutput.StatsAccumulator(names: whole.names)
            var chunks = 0
            try FeatureComputation.stream(request, source: try Self.csi300Source()) { chunk in
                chunks += 1
                FeatureOutput.writeCSVRows(chunk) { streamed += $0 }
                stats.add(chunk)
            }
            #expect(chunks > 1)  // a cross-sectional plan is evaluated at once and still handed over in pieces
            #expect(streamed == expected)
            let direct = FeatureOutput.stats(whole)
            for (a, b) in zip(stats.result, direct) {
                #expect(a.valid == b.valid && a.nan == b.nan && a.min == b.min && a.max == b.max)
                #expect(abs(a.mean - b.mean) <= 1e-12 * abs(b.mean) && abs(a.std - b.std) <= 1e-9 * b.std)
            }
        }
    }

    /// `features --stats` reduces each output as soon as it is computed and reuses its memory: outputs read again by a
    /// later output, grouped kernels, a repeated expression, a field and a constant must each be counted once, right.
    @Test("Statistics reduced as outputs are computed equal the whole run's", arguments: [false, true])
    func reducedStatisticsMatchWholeRun(crossSectional: Bool) async throws {
        try await blocking {
            var expressions = [NamedExpression(name: "MA", text: "Mean($close, 5)"), NamedExpression(name: "MAR", text: "Mean($close, 5)/$close"),
                               NamedExpression(name: "SD", text: "Std($close, 5)"), NamedExpression(name: "MA2", text: "Mean($close, 5)"),
                               NamedExpression(name: "C", text: "$close"), NamedExpression(name: "ONE", text: "1"),
                               NamedExpression(name: "Q", text: "Quantile($close, 10, 0.8)/Quantile($close, 10, 0.2)")]
            if crossSectional { expressions.append(NamedExpression(name: "CS", text: "CSRank($volume)")) }
            let request = FeatureRequest(universe: .named("csi300"), start: TimeFormat.parse("2022-06-01"),
                                         end: TimeFormat.parse("2022-08-31"), expressions: expressions, threads: 2)
            let whole = try FeatureComputation.run(request, source: try Self.csi300Source())
            var stats = FeatureOutput.StatsAccumulator(names: whole.names)
            var cells = 0
            let outputs = expressions.count
            try FeatureComputation.reduce(request, source: try Self.csi300Source(), make: {
                FeatureOutput.StatsReducer(data: $0, outputRows: $1, outputs: outputs)
            }) { reducer in
                stats.merge(reducer.partial)
                cells += reducer.cellCount
            }
            #expect(cells == whole.outputCellCount)
            let direct = FeatureOutput.stats(whole)
            for (a, b) in zip(stats.result, direct) {
                #expect(a.valid == b.valid && a.nan == b.nan && a.inf == b.inf && a.min == b.min && a.max == b.max, "\(a.name)")
                #expect(abs(a.mean - b.mean) <= 1e-12 * abs(b.mean) && abs(a.std - b.std) <= 1e-9 * max(b.std, 1e-300), "\(a.name)")
            }
        }
    }

    @Test("ChangeInstrument reads a benchmark from benchmarks/")
    func benchmarkBeta() async throws {
        try await blocking {
            let request = FeatureRequest(universe: .codes(["SH600000"]),
                                         expressions: [NamedExpression(name: "REL", text: "$close / ChangeInstrument('SH000300', $close)")])
            let result = try FeatureComputation.run(request, source: try Self.csi300Source())
            // 2018-01-02: SH600000 close 119.38651, CSI 300 close 4087.401.
            #expect(abs(result.panels[0][0, 0] - 119.38651 / 4087.401) < 1e-12)
        }
    }
}

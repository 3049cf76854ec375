import FactorCore
@testable import FactorData
import Foundation
import Testing

@Suite("CSV directory source")
struct CSVSourceTests {
    /// Three instruments over a calendar with a holiday-free week; B has a gap, C lists late and ends early.
    static func writeDaily(_ dir: TempDir, calendar: Bool) throws {
        try dir.write("A_daily_hfq.csv", """
            date,open,high,low,close,volume,factor
            2020-01-02,10,11,9,10.5,100,1
            2020-01-03,10.5,12,10,11,200,1
            2020-01-06,11,11.5,10.5,11.2,150,1
            2020-01-07,11.2,11.8,11,11.6,120,1
            2020-01-08,11.6,12,11.1,11.9,130,1

            """)
        try dir.write("B_daily_hfq.csv", """
            date,open,high,low,close,volume,factor
            2020-01-02,20,21,19,20.5,1000,2
            2020-01-07,20.5,22,20,21,2000,2
            2020-01-08,21,21.5,20.5,21.2,1500,2

            """)
        try dir.write("C_daily_hfq.csv", """
            date,open,high,low,close,volume,factor
            2020-01-03,5,5.5,4.5,5.2,10,1
            2020-01-06,5.2,5.6,5,5.5,20,1

            """)
        try dir.write("benchmarks/IDX_daily.csv", """
            date,open,high,low,close,volume
            2019-12-31,99,100,98,99.5,1
            2020-01-02,100,101,99,100.5,10
            2020-01-03,100.5,102,100,101,20
            2020-01-06,101,101.5,100.5,101.2,15
            2020-01-07,101.2,101.8,101,101.6,12
            2020-01-08,101.6,102,101.1,101.9,13
            2020-01-09,102,103,101,102,1

            """)
        if calendar {
            try dir.write("calendars/day.txt", "2019-12-31\n2020-01-02\n2020-01-03\n2020-01-06\n2020-01-07\n2020-01-08\n2020-01-09\n")
        }
    }

    @Test("Calendar from calendars/day.txt; each instrument laid from its first to its last row; gaps NaN")
    func calendarFile() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try Self.writeDaily(dir, calendar: true)
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache")
        #expect(source.kind == .csv)
        #expect(source.baseFrequency == .day)
        #expect(try source.calendar(frequency: nil).count == 7)
        #expect(try source.fieldNames() == ["close", "factor", "high", "low", "open", "volume"])
        #expect(try source.instrumentCodes() == ["A", "B", "C"])
        let loaded = try source.load(DataRequest())
        let data = loaded.data
        #expect(data.instruments == ["A", "B", "C"])
        #expect(data.calendar.times.first == day("2019-12-31"))
        #expect(data.spans == [1..<6, 1..<6, 2..<4])
        #expect(loaded.outputRows == 0..<7)
        // B is absent on 2020-01-03 and 2020-01-06: NaN rows inside its span.
        #expect(data.value("close", "B", day("2020-01-03"))?.isNaN == true)
        #expect(data.value("close", "B", day("2020-01-07")) == 21)
        #expect(data.value("close", "C", day("2020-01-07"))?.isNaN == true)
        #expect(data.value("volume", "A", day("2020-01-08")) == 130)
        // `all` without instruments/all.txt: members over their spans.
        #expect(data.membership.rows == [[1..<6], [1..<6], [2..<4]])
        #expect(loaded.origin == .memory)  // parsed by the calendar and field calls above
    }

    @Test("Calendar from the union of the files' dates when there is no calendar file")
    func unionCalendar() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try Self.writeDaily(dir, calendar: false)
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache")
        let calendar = try source.calendar(frequency: nil)
        #expect(calendar.times == ["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"].map(day))
        let data = try source.load(DataRequest()).data
        #expect(data.spans == [0..<5, 0..<5, 1..<3])
    }

    @Test("Start, end, look-back and look-ahead rows; outputRows")
    func rowsAndWindows() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try Self.writeDaily(dir, calendar: true)
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache")
        let loaded = try source.load(DataRequest(fields: ["close"], start: day("2020-01-06"), end: day("2020-01-07"),
                                                 lookbackRows: 2, lookaheadRows: 1))
        #expect(loaded.data.calendar.times == ["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"].map(day))
        #expect(loaded.outputRows == 2..<4)
        #expect(loaded.data.fieldNames == ["close"])
        #expect(loaded.data.spans == [0..<5, 0..<5, 1..<3])
        // Whole history when lookbackRows is nil.
        let whole = try source.load(DataRequest(fields: ["close"], start: day("2020-01-06")))
        #expect(whole.data.calendar.count == 7 && whole.outputRows == 3..<7)
        // Results do not depend on the start date: the same bar has the same value.
        let other = try source.load(DataRequest(fields: ["close"], start: day("2020-01-07"), lookbackRows: 2))
        #expect(other.data.value("close", "A", day("2020-01-07")) == loaded.data.value("close", "A", day("2020-01-07")))
        // A date range without bars, and start after end.
        #expect(errorText { _ = try source.load(DataRequest(start: day("2020-01-04"), end: day("2020-01-05"))) }?
            .contains("no bars between 2020-01-04 and 2020-01-05") == true)
        #expect(errorText { _ = try source.load(DataRequest(start: day("2020-01-08"), end: day("2020-01-02"))) }?
            .contains("after") == true)
        // C's span (01-03 … 01-06) does not meet 01-07 … 01-08: not included without a look-back; with the whole
        // history as look-back it is loaded (a cross-section on those rows needs it) but has no output row.
        let late = try source.load(DataRequest(start: day("2020-01-07"), lookbackRows: 0))
        #expect(late.data.instruments == ["A", "B"])
        let lateWithHistory = try source.load(DataRequest(start: day("2020-01-07")))
        #expect(lateWithHistory.data.instruments == ["A", "B", "C"])
        let c = try #require(lateWithHistory.data.instrumentIndex("C"))
        #expect(!lateWithHistory.data.membership.rows[c].contains { $0.overlaps(lateWithHistory.outputRows) })
    }

    @Test("Unknown fields list the existing ones; `$close` and upper case are accepted")
    func fields() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try Self.writeDaily(dir, calendar: true)
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache")
        let message = try #require(errorText { _ = try source.load(DataRequest(fields: ["close", "vwap", "amount"])) })
        #expect(message.contains("vwap, amount") && message.contains("close, factor, high, low, open, volume"))
        #expect(try source.load(DataRequest(fields: ["$Close"])).data.fieldNames == ["close"])
    }

    @Test("Benchmarks load as auxiliary series, not as members; unknown codes list the benchmarks")
    func benchmarks() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try Self.writeDaily(dir, calendar: true)
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache")
        let loaded = try source.load(DataRequest(fields: ["close", "factor"], start: day("2020-01-02"),
                                                 lookbackRows: 0, auxiliary: ["idx", "B"]))
        #expect(loaded.data.instruments == ["A", "B", "C"])
        let idx = try #require(loaded.data.auxiliary["IDX"])
        #expect(idx.fields.keys.sorted() == ["close"])  // the benchmark has no factor
        #expect(idx.fields["close"] == [100.5, 101, 101.2, 101.6, 101.9, 102])
        #expect(idx.span == 0..<6)
        let b = try #require(loaded.data.auxiliary["B"])
        #expect(b.fields["factor"]?[0] == 2)
        let message = try #require(errorText { _ = try source.load(DataRequest(auxiliary: ["SH000300"])) })
        #expect(message.contains("SH000300") && message.contains("available benchmarks: IDX"))
        #expect(errorText { _ = try source.load(DataRequest(universe: .codes(["IDX"]))) }?.contains("benchmark") == true)
    }

    @Test("Intraday files: frequency from the suffix, an end date includes all its bars")
    func intraday() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var lines = ["datetime,open,high,low,close,volume"]
        for d in ["2023-02-01", "2023-02-02"] {
            for (h, m) in [(9, 35), (9, 40), (9, 45), (9, 50), (9, 55), (10, 0)] {
                lines.append("\(d) \(String(format: "%02d:%02d", h, m)):00,1,2,0.5,1.5,10")
            }
        }
        try dir.write("E_5min.csv", lines.joined(separator: "\n"))
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache")
        #expect(source.baseFrequency == .minutes(5))
        let loaded = try source.load(DataRequest(end: day("2023-02-01")))
        #expect(loaded.outputRows == 0..<6)
        #expect(loaded.data.calendar.label(5) == "2023-02-01 10:00:00")
        // Plain CODE.csv files: the frequency is inferred from the spacing of the bars.
        let plain = try TempDir()
        defer { plain.remove() }
        try plain.write("E.csv", lines.joined(separator: "\n"))
        #expect(try DataSources.open(directory: plain.path, cacheDirectory: plain.path + "/.c").baseFrequency == .minutes(5))
        // Mixed frequencies in one directory are an error that names them.
        try plain.write("F_daily.csv", "date,close\n2023-02-01,1\n")
        let message = try #require(errorText { _ = try DataSources.open(directory: plain.path) })
        #expect(message.contains("5min") && message.contains("day"))
    }

    @Test("Directory errors: missing, not a directory, no instrument files, duplicate instruments")
    func directoryErrors() throws {
        #expect(errorText { _ = try DataSources.open(directory: "/nonexistent/factorlab") }?.contains("does not exist") == true)
        let dir = try TempDir()
        defer { dir.remove() }
        let file = try dir.write("notes.txt", "hello")
        #expect(errorText { _ = try DataSources.open(directory: file) }?.contains("not a directory") == true)
        #expect(errorText { _ = try DataSources.open(directory: dir.path) }?.contains("no instrument files") == true)
        try dir.write("SH600000.csv", "date,close\n2020-01-02,1\n")
        try dir.write("SH600000_daily.csv", "date,close\n2020-01-02,1\n")
        let message = try #require(errorText { _ = try DataSources.open(directory: dir.path) })
        #expect(message.contains("SH600000") && message.contains("several files"))
    }

    @Test("Real daily data: suspension days inside a span are NaN rows, late listings start later",
          .enabled(if: SharedData.available, SharedData.skipNote))
    func realSuspensions() throws {
        let source = try SharedData.csi300.get()
        let loaded = try source.load(DataRequest(universe: .codes(["SH600008", "SH600150"]), fields: ["close", "volume"]))
        let data = loaded.data
        #expect(data.calendar.count == 1457)
        #expect(data.value("close", "SH600008", day("2020-09-21"))?.isNaN == true)
        #expect(data.value("close", "SH600008", day("2020-09-28"))?.isNaN == true)
        #expect(data.value("close", "SH600008", day("2020-09-18"))?.isNaN == false)
        let late = try #require(data.instrumentIndex("SH600150"))
        #expect(data.calendar.label(data.spans[late].lowerBound) == "2018-03-21")
        #expect(data.spans[late].upperBound == 1457)
        #expect(try source.benchmarkCodes() == ["SH000300", "SH000905"])
        #expect(try source.instrumentCodes().count == 511)
    }

    @Test("Qlib edge-case inputs: union calendar, empty-field suspension rows, gaps, late listing, delisting",
          .enabled(if: SharedData.available, SharedData.skipNote))
    func qlibEdgeInputs() throws {
        let source = try DataSources.open(directory: SharedData.path("reference/qlib_edge/input_csv"),
                                          cacheDirectory: SharedData.cacheDirectory)
        #expect(source.baseFrequency == .day)
        let data = try source.load(DataRequest()).data
        #expect(data.calendar.count == 160)
        #expect(data.fieldNames == ["close", "factor", "high", "low", "open", "volume", "vwap"])
        func span(_ code: String) throws -> Range<Int> { data.spans[try #require(data.instrumentIndex(code))] }
        #expect(try span("SH600003") == 5..<160)
        #expect(try span("SZ000001") == 20..<160)
        #expect(try span("SZ000002") == 0..<130)
        #expect(try span("SH600000") == 0..<160 && span("SH600001") == 0..<160)
        #expect(data.value("close", "SH600000", day("2020-03-12"))?.isNaN == true)
        #expect(data.value("close", "SH600001", day("2020-04-08"))?.isNaN == true)
        #expect(data.value("close", "SH600001", day("2020-04-10"))?.isNaN == false)
        #expect(data.spans.reduce(0) { $0 + $1.count } == 905)
    }
}

@Suite("A broken file only fails the requests that need it")
struct UnreadableFileTests {
    @Test func otherInstrumentsStillLoad() throws {
        let dir = NSTemporaryDirectory() + "factorlab-broken-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "date,close\n2020-01-02,1\n2020-01-03,2\n".write(toFile: dir + "/SH600000.csv", atomically: true, encoding: .utf8)
        try "date,close\n2020-01-02,5\n2020-01-03,6\n".write(toFile: dir + "/SH600001.csv", atomically: true, encoding: .utf8)
        try "date,close\n2020-01-02,5\n2020-01-03,oops\n".write(toFile: dir + "/SH600002.csv", atomically: true, encoding: .utf8)
        let source = try CSVDirectorySource(directory: dir, cacheDirectory: dir + "/cache")
        let good = try source.load(DataRequest(universe: .codes(["SH600000", "SH600001"])))
        #expect(good.data.instruments == ["SH600000", "SH600001"])
        for spec in [UniverseSpec.all, .codes(["SH600002"])] {
            do {
                _ = try source.load(DataRequest(universe: spec))
                Issue.record("loaded \(spec) with a broken file")
            } catch {
                #expect("\(error)".contains("SH600002.csv:3"), "\(error)")
            }
        }
        // Nothing was cached from a directory with a broken file.
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/cache")) ?? []
        #expect(cached.filter { $0.hasSuffix(".fcols") }.isEmpty, "\(cached)")
    }
}

import FactorCore
@testable import FactorData
import Foundation
import Testing

@Suite("Universes and point-in-time membership")
struct UniverseTests {
    @Test("Parsing universe texts")
    func parsing() throws {
        #expect(try UniverseSpec(parsing: "all") == .all)
        #expect(try UniverseSpec(parsing: " ALL ") == .all)
        #expect(try UniverseSpec(parsing: "csi300") == .named("csi300"))
        #expect(try UniverseSpec(parsing: "sh600000, SZ000001,,sh600000") == .codes(["SH600000", "SZ000001"]))
        #expect(try UniverseSpec(parsing: "SH600000,SZ000001").description == "SH600000,SZ000001")
        #expect(throws: DataError.emptyUniverse) { try UniverseSpec(parsing: "  ") }
        #expect(throws: DataError.emptyUniverse) { try UniverseSpec(parsing: ",") }
    }

    /// Four instruments on six days; `idx` membership with several spans per symbol and a member without data.
    static func fixture() throws -> TempDir {
        let dir = try TempDir("universe")
        let dates = ["2021-03-01", "2021-03-02", "2021-03-03", "2021-03-04", "2021-03-05", "2021-03-08"]
        try dir.write("calendars/day.txt", dates.joined(separator: "\n"))
        for (k, code) in ["SH600001", "SH600002", "SH600003", "SZ000001"].enumerated() {
            let rows = dates.enumerated().map { "\($0.element),\(Double(k * 10 + $0.offset))" }
            try dir.write("\(code)_daily.csv", (["date,close"] + rows).joined(separator: "\n"))
        }
        try dir.write("instruments/idx.txt", """
            SH600001\t2021-03-01\t2021-03-02
            SH600001\t2021-03-05\t2021-03-08
            SH600002\t2021-03-03\t2021-03-03
            SH600009\t2021-03-01\t2021-03-08
            SZ000001\t2021-03-08\t2021-03-08

            """)
        return dir
    }

    @Test("A named universe expands to its members on each date (several spans, inclusive ends)")
    func namedUniverse() throws {
        let dir = try Self.fixture()
        defer { dir.remove() }
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache")
        #expect(try source.universeNames() == ["all", "idx"])
        let loaded = try source.load(DataRequest(universe: try UniverseSpec(parsing: "IDX")))
        let data = loaded.data
        #expect(data.instruments == ["SH600001", "SH600002", "SZ000001"])
        #expect(data.membership.rows == [[0..<2, 4..<6], [2..<3], [5..<6]])
        #expect(data.spans == [0..<6, 0..<6, 0..<6])
        #expect(loaded.warnings.contains { $0.contains("SH600009") && $0.contains("without data") })
        // Only members whose membership meets [start, end] are included; membership is clipped to the loaded rows.
        let window = try source.load(DataRequest(universe: .named("idx"), start: day("2021-03-02"), end: day("2021-03-04"),
                                                 lookbackRows: 0))
        #expect(window.data.instruments == ["SH600001", "SH600002"])
        #expect(window.data.membership.rows == [[0..<1], [1..<2]])
        // A single code is accepted where a universe name is expected.
        #expect(try source.load(DataRequest(universe: try UniverseSpec(parsing: "sz000001"))).data.instruments == ["SZ000001"])
    }

    @Test("Unknown universe names list the available ones; unknown codes say how many exist")
    func unknownNames() throws {
        let dir = try Self.fixture()
        defer { dir.remove() }
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache")
        let message = try #require(errorText { _ = try source.load(DataRequest(universe: .named("csi500"))) })
        #expect(message.contains("unknown universe 'csi500'") && message.contains("available: all, idx"))
        let codes = try #require(errorText {
            _ = try source.load(DataRequest(universe: .codes(["SH600001", "SH699999", "XX"])))
        })
        #expect(codes.contains("SH699999, XX") && codes.contains("4 instruments have data") && codes.contains("SH600001"))
    }

    @Test("instruments/all.txt defines `all` when present")
    func allFile() throws {
        let dir = try Self.fixture()
        defer { dir.remove() }
        try dir.write("instruments/all.txt", "SH600001\t2021-03-01\t2021-03-03\nSH600002\t2021-03-01\t2021-03-08\n")
        let data = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache").load(DataRequest()).data
        #expect(data.instruments == ["SH600001", "SH600002"])
        #expect(data.membership.rows == [[0..<3], [0..<6]])
    }

    @Test("Bad instruments files name the file and line")
    func badInstrumentsFile() throws {
        let dir = try Self.fixture()
        defer { dir.remove() }
        try dir.write("instruments/bad.txt", "SH600001\t2021-03-01\t2021-03-02\nSH600002\t2021-03-09\t2021-03-01\n")
        let message = try #require(errorText {
            _ = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache").load(DataRequest(universe: .named("bad")))
        })
        #expect(message.contains("bad.txt:2:") && message.contains("after"))
    }

    @Test("csi300 is point-in-time: SH600004 is a member 2018-12-17 … 2021-06-10 inclusive, not a day outside",
          .enabled(if: SharedData.available, SharedData.skipNote))
    func csi300PointInTime() throws {
        let source = try SharedData.csi300.get()
        let loaded = try source.load(DataRequest(universe: .named("csi300"), fields: ["close"]))
        let data = loaded.data
        let i = try #require(data.instrumentIndex("SH600004"))
        let cal = data.calendar
        func member(_ date: String) throws -> Bool { data.membership.isMember(i, try #require(cal.index(of: day(date)))) }
        #expect(try member("2018-12-17"))
        #expect(try member("2021-06-10"))
        #expect(try !member("2018-12-14"))
        #expect(try !member("2021-06-11"))
        // Several spans: SZ000723 is in, out, in, out, in, out.
        let k = try #require(data.instrumentIndex("SZ000723"))
        let kRows = data.membership.rows[k].map { cal.label($0.lowerBound) + "…" + cal.label($0.upperBound - 1) }
        #expect(kRows == ["2018-01-02…2018-12-14", "2019-12-16…2021-06-10", "2022-12-09…2023-12-07"])
        // Expanded to 285–298 members per day (the file omits members without data); every one of the 511
        // instruments was a member at some time, but never all at once.
        var counts = [Int](repeating: 0, count: cal.count)
        for ranges in data.membership.rows { for r in ranges { for t in r { counts[t] += 1 } } }
        #expect(counts.min() ?? 0 >= 285)
        #expect(counts.max() ?? 0 <= 300)
        #expect(data.instruments.count == 511)
        let first = (0..<data.instruments.count).filter { data.membership.isMember($0, 0) }
        #expect(first.count >= 285 && first.count <= 300)
        #expect(!first.contains(i))
        // SH600004 keeps its whole history (spans are data, membership is separate).
        #expect(data.spans[i] == 0..<1457)
    }

    @Test("Unknown code on real data: how many exist, a few examples, benchmarks named as such",
          .enabled(if: SharedData.available, SharedData.skipNote))
    func realUnknownCode() throws {
        let source = try SharedData.csi300.get()
        let message = try #require(errorText {
            _ = try source.load(DataRequest(universe: .codes(["SH600000", "SH000300", "SH999999"])))
        })
        #expect(message.contains("SH000300, SH999999") && message.contains("511 instruments"))
        #expect(message.contains("SH000300 is a benchmark"))
        let universe = try #require(errorText { _ = try source.load(DataRequest(universe: .named("csi500"))) })
        #expect(universe.contains("available: all, csi300"))
    }
}

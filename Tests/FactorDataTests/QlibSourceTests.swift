import FactorCore
@testable import FactorData
import Foundation
import Testing

@Suite("Qlib binary source")
struct QlibSourceTests {
    /// Writes a `.bin` file: first row index, then float32 values.
    static func writeBin(_ dir: TempDir, _ relative: String, start: Float, values: [Float]) throws {
        var words = [start.bitPattern.littleEndian]
        words += values.map { $0.bitPattern.littleEndian }
        let data = words.withUnsafeBytes { Data($0) }
        let path = dir.path + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path))
    }

    static func fixture() throws -> TempDir {
        let dir = try TempDir("qlib")
        try dir.write("calendars/day.txt", "2020-01-02\n2020-01-03\n2020-01-06\n2020-01-07\n")
        try dir.write("instruments/all.txt", "SH600000\t2020-01-02\t2020-01-07\nSZ000001\t2020-01-03\t2020-01-06\n")
        try dir.write("instruments/csi300.txt", "SH600000\t2020-01-03\t2020-01-06\n")
        try writeBin(dir, "features/sh600000/close.day.bin", start: 0, values: [1.5, .nan, 2.25, 0.1])
        try writeBin(dir, "features/sh600000/volume.day.bin", start: 0, values: [10, 20, 30, 40])
        try writeBin(dir, "features/sz000001/close.day.bin", start: 1, values: [7, 8])
        try writeBin(dir, "features/sh000300/close.day.bin", start: 0, values: [100, 101, 102, 103])
        return dir
    }

    @Test("A directory with day and 5-minute data serves each at its own frequency")
    func dayAndMinuteDataSideBySide() throws {
        let dir = try Self.fixture()
        defer { dir.remove() }
        try dir.write("calendars/5min.txt", "2020-01-02 09:35:00\n2020-01-02 09:40:00\n2020-01-02 09:45:00\n2020-01-03 09:35:00\n")
        try Self.writeBin(dir, "features/sh600000/close.5min.bin", start: 0, values: [1, 2, 3, 4])
        let source = try DataSources.open(directory: dir.path)
        #expect(source.baseFrequency == .day)
        let minutes = try source.load(DataRequest(fields: ["close"], frequency: .minutes(5))).data
        #expect(minutes.calendar.count == 4)
        #expect(minutes.fields["close"]?.series(0).map { $0 } == [1, 2, 3, 4])
        #expect(try source.calendar(frequency: .minutes(5)).count == 4)
        // 15-minute bars come from the 5-minute data; day bars still from the day files.
        let quarter = try source.load(DataRequest(fields: ["close"], frequency: .minutes(15))).data
        #expect(quarter.fields["close"]?[0, 0] == 3)
        let daily = try source.load(DataRequest(fields: ["close"])).data
        #expect(daily.calendar.count == 4 && daily.fields["close"]?[0, 0] == 1.5)
    }

    @Test("Reads calendars, instruments and .bin files; floats widen exactly; missing fields are NaN")
    func fixtureDirectory() throws {
        let dir = try Self.fixture()
        defer { dir.remove() }
        let source = try DataSources.open(directory: dir.path)
        #expect(source.kind == .qlib)
        #expect(source.baseFrequency == .day)
        #expect(try source.fieldNames() == ["close", "volume"])
        #expect(try source.instrumentCodes() == ["SH600000", "SZ000001"])
        #expect(try source.universeNames() == ["all", "csi300"])
        let loaded = try source.load(DataRequest(auxiliary: ["SH000300"]))
        let data = loaded.data
        #expect(loaded.origin == .qlibBinary)
        #expect(data.instruments == ["SH600000", "SZ000001"])
        #expect(data.spans == [0..<4, 1..<3])
        #expect(data.fields["close"]?.series(0).map { $0 } .count == 4)
        #expect(data.fields["close"]?[0, 3] == Double(Float(0.1)))
        #expect(data.fields["close"]?[0, 1].isNaN == true)
        #expect(data.fields["volume"]?[1, 1].isNaN == true)  // SZ000001 has no volume file
        #expect(data.fields["close"]?[1, 0].isNaN == true && data.fields["close"]?[1, 2] == 8)
        #expect(data.auxiliary["SH000300"]?.fields["close"] == [100, 101, 102, 103])
        let csi = try source.load(DataRequest(universe: .named("csi300"), start: day("2020-01-06"))).data
        #expect(csi.instruments == ["SH600000"])
        #expect(csi.membership.rows == [[1..<3]])
        // Week bars from the daily bins.
        let weekly = try source.load(DataRequest(fields: ["close", "volume"], frequency: .week)).data
        #expect(weekly.calendar.times == [day("2020-01-03"), day("2020-01-07")])
        #expect(weekly.fields["close"]?[0, 0] == 1.5 && weekly.fields["volume"]?[0, 1] == 70)
    }

    @Test("Malformed .bin files are errors naming the file")
    func badBin() throws {
        let dir = try Self.fixture()
        defer { dir.remove() }
        try Self.writeBin(dir, "features/sh600000/close.day.bin", start: 2, values: [1, 2, 3])
        let message = try #require(errorText { _ = try DataSources.open(directory: dir.path).load(DataRequest()) })
        #expect(message.contains("sh600000/close.day.bin") && message.contains("does not fit the calendar"))
        try dir.write("features/sh600000/close.day.bin", "abcde")
        #expect(errorText { _ = try DataSources.open(directory: dir.path).load(DataRequest()) }?.contains("not 4 ×") == true)
    }

    @Test("The 30-instrument Qlib sample equals the CSV files (CSV Double rounded to Float) in every value and span",
          .enabled(if: SharedData.available, SharedData.skipNote))
    func qlibSampleMatchesCSV() throws {
        let qlib = try DataSources.open(directory: SharedData.path("data/cn_csi300_daily/qlib_sample"))
        #expect(qlib.kind == .qlib)
        let q = try qlib.load(DataRequest()).data
        #expect(q.instruments.count == 30)
        let csv = try SharedData.csi300.get()
        let c = try csv.load(DataRequest(universe: .codes(q.instruments))).data
        #expect(c.instruments == q.instruments)
        #expect(c.calendar == q.calendar)
        #expect(c.spans == q.spans)
        #expect(q.fieldNames == ["close", "factor", "high", "low", "open", "volume"])
        #expect(c.fieldNames == q.fieldNames)
        var compared = 0, different = 0
        for name in q.fieldNames {
            let qv = try #require(q.fields[name]).values, cv = try #require(c.fields[name]).values
            #expect(qv.count == cv.count)
            for (a, b) in zip(qv, cv) {
                compared += 1
                let rounded = Double(Float(b))
                if !(a.bitPattern == rounded.bitPattern || (a.isNaN && b.isNaN)) { different += 1 }
            }
        }
        #expect(compared == 30 * 1457 * 6)
        #expect(different == 0)
        // Membership of the sample's csi300 file equals the CSV directory's for the same instruments.
        let qm = try qlib.load(DataRequest(universe: .named("csi300"))).data
        let cm = try csv.load(DataRequest(universe: .named("csi300"))).data
        for (i, code) in qm.instruments.enumerated() {
            let j = try #require(cm.instrumentIndex(code))
            #expect(qm.membership.rows[i] == cm.membership.rows[j], "\(code)")
        }
    }
}

import FactorCore
@testable import FactorData
import Foundation
import Testing

@Suite("Resampling")
struct ResamplerTests {
    /// Seven trading days over three ISO weeks and two months; A is suspended for a whole week, B lists late,
    /// has an empty close and stops early.
    static func fixture() throws -> TempDir {
        let dir = try TempDir("resample")
        try dir.write("calendars/day.txt", "2020-01-29\n2020-01-30\n2020-01-31\n2020-02-03\n2020-02-04\n2020-02-10\n2020-02-11\n")
        try dir.write("A_daily.csv", """
            date,open,high,low,close,volume,amount,vwap,factor
            2020-01-29,10,11,9,10.5,100,1000,10,1
            2020-01-30,10.5,12,10,11,200,2200,11,1
            2020-01-31,11,11.5,10.5,11.2,100,1120,11.2,1.1
            2020-02-10,12,13,11.5,12.5,300,3750,12.5,1.1
            2020-02-11,12.5,12.8,12,12.1,100,1210,12.1,1.2
            """)
        try dir.write("B_daily.csv", """
            date,open,high,low,close,volume,amount,vwap,factor
            2020-01-31,5,5.5,4.5,5.2,10,52,5.2,1
            2020-02-03,5.2,5.6,5,5.5,20,110,5.5,1
            2020-02-04,5.5,6,5.4,,30,165,5.5,1
            """)
        try dir.write("instruments/idx.txt", "A\t2020-01-29\t2020-02-04\nB\t2020-01-29\t2020-02-03\n")
        return dir
    }

    @Test("Weekly bars by hand: first open, max high, min low, last close, summed volume, weighted vwap")
    func weekly() throws {
        let dir = try Self.fixture()
        defer { dir.remove() }
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache")
        let weekCalendar = try source.calendar(frequency: .week)
        #expect(weekCalendar.times == ["2020-01-31", "2020-02-04", "2020-02-11"].map(day))
        #expect(weekCalendar.frequency == .week)
        let data = try source.load(DataRequest(frequency: .week)).data
        func v(_ f: String, _ i: Int) throws -> [Double] { Array(try #require(data.fields[f]).series(i)) }
        #expect(try v("open", 0)[0] == 10 && v("high", 0)[0] == 12 && v("low", 0)[0] == 9 && v("close", 0)[0] == 11.2)
        #expect(try v("volume", 0)[0] == 400 && v("amount", 0)[0] == 4320 && v("factor", 0)[0] == 1.1)
        #expect(try abs(v("vwap", 0)[0] - 10.8) < 1e-12)
        #expect(try v("close", 0)[1].isNaN && v("volume", 0)[1].isNaN && v("open", 0)[1].isNaN)  // suspended week
        #expect(try v("open", 0)[2] == 12 && v("high", 0)[2] == 13 && v("low", 0)[2] == 11.5 && v("close", 0)[2] == 12.1)
        #expect(try v("volume", 0)[2] == 400 && abs(v("vwap", 0)[2] - 12.4) < 1e-12 && v("factor", 0)[2] == 1.2)
        #expect(try v("open", 1)[1] == 5.2 && v("high", 1)[1] == 6 && v("low", 1)[1] == 5)
        #expect(try v("close", 1)[1] == 5.5 && v("volume", 1)[1] == 50)  // close: last valid
        #expect(try v("close", 1)[2].isNaN)
        #expect(data.spans == [0..<3, 0..<2])
        // Membership on a weekly bar = membership on its last trading day.
        let members = try source.load(DataRequest(universe: .named("idx"), frequency: .week)).data
        #expect(members.membership.rows == [[0..<2], [0..<1]])
        // Loading weekly equals resampling the loaded daily data.
        let daily = try source.load(DataRequest(universe: .named("idx"))).data
        let resampled = try Resampler.resample(daily, to: .week)
        #expect(resampled.calendar == members.calendar)
        #expect(resampled.spans == members.spans)
        #expect(resampled.membership == members.membership)
        for (name, panel) in members.fields { #expect(sameValues(panel.values, resampled.fields[name]?.values ?? []), "\(name)") }
    }

    @Test("Monthly bars by hand, labelled by the month's last trading day")
    func monthly() throws {
        let dir = try Self.fixture()
        defer { dir.remove() }
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache")
        let loaded = try source.load(DataRequest(fields: ["open", "close", "volume"], start: day("2020-02-01"),
                                                 frequency: .month, lookbackRows: 1))
        let data = loaded.data
        #expect(data.calendar.times == [day("2020-01-31"), day("2020-02-11")])
        #expect(loaded.outputRows == 1..<2)
        #expect(data.fields["open"]?[0, 1] == 12 && data.fields["close"]?[0, 1] == 12.1 && data.fields["volume"]?[0, 1] == 400)
        #expect(data.fields["open"]?[1, 1] == 5.2 && data.fields["close"]?[1, 1] == 5.5 && data.fields["volume"]?[1, 1] == 50)
        #expect(data.fields["close"]?[1, 0] == 5.2)
    }

    @Test("Plans: what can be resampled to what")
    func plans() throws {
        let daily = MarketCalendar(times: [day("2020-01-02")], frequency: .day)
        #expect(errorText { _ = try Resampler.plan(from: daily, to: .minutes(5)) }?.contains("cannot resample day bars to 5min") == true)
        let fiveMin = MarketCalendar(times: [day("2020-01-02") + 35 * 60], frequency: .minutes(5))
        #expect(errorText { _ = try Resampler.plan(from: fiveMin, to: .minutes(7)) }?.contains("not a multiple of 5") == true)
        #expect(errorText { _ = try Resampler.plan(from: MarketCalendar(times: [], frequency: .week), to: .month) } != nil)
    }

    /// The 5-minute bars of one ETF file as (time, open, high, low, close, volume, amount).
    static func rawBars(_ path: String) throws -> [(Timestamp, [Double])] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return (TimeFormat.parse(cells[0]) ?? 0, cells.dropFirst().map { Double($0) ?? .nan })
        }
    }

    @Test("ETF 5-minute bars → 15min (16 a day) and → day, checked against the file by hand",
          .enabled(if: SharedData.available, SharedData.skipNote))
    func etfIntraday() throws {
        let path = SharedData.path("data/cn_etf_5min")
        let source = try DataSources.open(directory: path, cacheDirectory: SharedData.cacheDirectory)
        #expect(source.baseFrequency == .minutes(5))
        #expect(try source.calendar(frequency: nil).count == 62 * 48)
        #expect(try source.instrumentCodes().count == 42)

        let q = try source.load(DataRequest(universe: .codes(["SH510050"]), frequency: .minutes(15))).data
        #expect(q.calendar.count == 62 * 16)
        #expect((0..<16).map { q.calendar.label($0) } == [
            "09:45", "10:00", "10:15", "10:30", "10:45", "11:00", "11:15", "11:30",
            "13:15", "13:30", "13:45", "14:00", "14:15", "14:30", "14:45", "15:00",
        ].map { "2023-02-01 \($0):00" })
        let bars = try Self.rawBars(path + "/SH510050_5min.csv")
        #expect(bars.count == 62 * 48)
        for g in 0..<(62 * 16) {
            let group = bars[(3 * g)..<(3 * g + 3)]
            #expect(q.calendar.times[g] == group.last?.0)
            let open = group.first?.1[0], close = group.last?.1[3]
            let high = group.map { $0.1[1] }.max(), low = group.map { $0.1[2] }.min()
            let volume = group.reduce(0.0) { $0 + $1.1[4] }, amount = group.reduce(0.0) { $0 + $1.1[5] }
            #expect(q.fields["open"]?[0, g] == open && q.fields["close"]?[0, g] == close)
            #expect(q.fields["high"]?[0, g] == high && q.fields["low"]?[0, g] == low)
            #expect(q.fields["volume"]?[0, g] == volume && q.fields["amount"]?[0, g] == amount)
        }

        let d = try source.load(DataRequest(universe: .codes(["SH510050", "SZ159915"]), frequency: .day)).data
        #expect(d.calendar.count == 62)
        #expect(d.calendar.frequency == .day && d.calendar.label(0) == "2023-02-01")
        for (i, code) in d.instruments.enumerated() {
            let raw = try Self.rawBars(path + "/\(code)_5min.csv")
            for t in 0..<62 {
                let dayBars = raw[(48 * t)..<(48 * t + 48)]
                #expect(TimeFormat.dayNumber(dayBars.first?.0 ?? 0) == TimeFormat.dayNumber(d.calendar.times[t]))
                #expect(d.fields["open"]?[i, t] == dayBars.first?.1[0])
                #expect(d.fields["high"]?[i, t] == dayBars.map { $0.1[1] }.max())
                #expect(d.fields["low"]?[i, t] == dayBars.map { $0.1[2] }.min())
                #expect(d.fields["close"]?[i, t] == dayBars.last?.1[3])
                #expect(d.fields["volume"]?[i, t] == dayBars.reduce(0.0) { $0 + $1.1[4] })
                #expect(d.fields["amount"]?[i, t] == dayBars.reduce(0.0) { $0 + $1.1[5] })
            }
        }
        // Other intraday frequencies and weekly bars from 5-minute bars.
        #expect(try source.calendar(frequency: .minutes(30)).count == 62 * 8)
        #expect(try source.calendar(frequency: .minutes(60)).count == 62 * 4)
        #expect(try source.calendar(frequency: .week).count == 13)
        #expect(errorText { _ = try source.calendar(frequency: .minutes(7)) } != nil)
        // An end date includes every bar of that day.
        let lastDay = try source.load(DataRequest(universe: .codes(["SH510050"]), start: day("2023-04-28"), end: day("2023-04-28")))
        #expect(lastDay.outputRows.count == 48)
    }

    @Test("Stock 15-minute bars → day agree with the matching daily hfq bars (raw = price / factor)",
          .enabled(if: SharedData.available, SharedData.skipNote))
    func stockIntradayVsDaily() throws {
        let intraday = try DataSources.open(directory: SharedData.path("data/cn_stock_15min"),
                                            cacheDirectory: SharedData.cacheDirectory)
        #expect(intraday.baseFrequency == .minutes(15))
        let daily = try DataSources.open(directory: SharedData.path("data/cn_stock_15min/daily"),
                                         cacheDirectory: SharedData.cacheDirectory)
        let a = try intraday.load(DataRequest(frequency: .day)).data
        let b = try daily.load(DataRequest()).data
        #expect(a.calendar == b.calendar)
        #expect(a.instruments == b.instruments)
        var days = 0, openMatch = 0, closeMatch = 0, volumeMatch = 0
        for i in a.instruments.indices {
            for t in a.calendar.times.indices {
                guard let open15 = a.fields["open"]?[i, t], let openD = b.fields["open"]?[i, t],
                      let factor = b.fields["factor"]?[i, t], !open15.isNaN, !openD.isNaN else { continue }
                days += 1
                if abs(open15 - openD / factor) < 0.005 { openMatch += 1 }
                if let c15 = a.fields["close"]?[i, t], let cD = b.fields["close"]?[i, t], abs(c15 - cD / factor) < 0.005 {
                    closeMatch += 1
                }
                if let v15 = a.fields["volume"]?[i, t], let vD = b.fields["volume"]?[i, t], abs(v15 - vD) <= 1e-6 * vD {
                    volumeMatch += 1
                }
            }
        }
        #expect(days > 3000)
        #expect(Double(openMatch) / Double(days) > 0.999)
        #expect(Double(closeMatch) / Double(days) > 0.995)
        #expect(Double(volumeMatch) / Double(days) > 0.995)
        // Suspension days: no bars, so the daily bar is NaN inside the span.
        let s = try #require(a.instrumentIndex("SH600438"))
        #expect(a.spans[s].count >= 47)
        #expect(a.fields["close"]?.series(s).filter { !$0.isNaN }.count == 47)
    }
}

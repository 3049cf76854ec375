import FactorCore
import Foundation
import Testing

@Suite("Time labels, calendars, hashing and ranking")
struct FactorCoreTests {
    @Test func parsesAndFormatsDatesAndTimes() throws {
        let t = try #require(TimeFormat.parse("2020-02-29"))
        #expect(TimeFormat.date(t) == "2020-02-29")
        #expect(TimeFormat.parse("20200229") == t)
        #expect(TimeFormat.parse("2020/02/29") == t)
        let m = try #require(TimeFormat.parse("2023-02-01 09:35:00"))
        #expect(m - t > 0)
        #expect(TimeFormat.dateTime(m) == "2023-02-01 09:35:00")
        #expect(TimeFormat.parse("2023-02-01T15:00") == TimeFormat.parse("2023-02-01 15:00:00"))
        #expect(TimeFormat.parse("2021-02-29") == nil)
        #expect(TimeFormat.parse("2021-13-01") == nil)
        #expect(TimeFormat.parse("yesterday") == nil)
        #expect(TimeFormat.parse("1969-12-31").map(TimeFormat.date) == "1969-12-31")
    }

    @Test func calendarRowsForADateRange() throws {
        let days = ["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"].compactMap { TimeFormat.parse($0) }
        let cal = MarketCalendar(times: days, frequency: .day)
        #expect(cal.rows(from: TimeFormat.parse("2020-01-03"), through: TimeFormat.parse("2020-01-06")) == 1..<3)
        #expect(cal.rows(from: TimeFormat.parse("2020-01-04"), through: nil) == 2..<4)
        #expect(cal.rows(from: TimeFormat.parse("2021-01-01"), through: nil).isEmpty)
        let bars = ["2023-02-01 09:35:00", "2023-02-01 15:00:00", "2023-02-02 09:35:00"].compactMap { TimeFormat.parse($0) }
        let intraday = MarketCalendar(times: bars, frequency: .minutes(5))
        #expect(intraday.rows(from: TimeFormat.parse("2023-02-01"), through: TimeFormat.parse("2023-02-01")) == 0..<2)
        #expect(intraday.label(1) == "2023-02-01 15:00:00")
    }

    @Test func frequencies() {
        #expect(Frequency("day") == .day)
        #expect(Frequency("5min") == .minutes(5))
        #expect(Frequency("15MIN") == .minutes(15))
        #expect(Frequency("week") == .week)
        #expect(Frequency("fortnight") == nil)
        #expect(Frequency.minutes(5).description == "5min")
        #expect(Frequency.week.periodsPerYear() == 52)
    }

    @Test func sha256KnownVectors() {
        #expect(SHA256Digest.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Digest.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Digest.hex(String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func averageRanksShareTies() {
        #expect(Ranking.averageRanks([3, 1, 3, 2]) == [3.5, 1, 3.5, 2])
        #expect(Ranking.averageRanks([5, 5, 5]) == [2, 2, 2])
        #expect(Ranking.averageRanks([]) == [])
    }

    @Test func membershipMaskAndSlices() {
        let m = Membership(rows: [[0..<2, 4..<5], []], length: 5)
        #expect(m.isMember(0, 1) && !m.isMember(0, 2) && m.isMember(0, 4))
        #expect(m.denseMask() == [true, true, false, false, true, false, false, false, false, false])
        #expect(m.slicingRows(1..<5).rows[0] == [0..<1, 3..<4])
        #expect(m.memberCount == 1)
    }
}

@Suite("HMAC-SHA256")
struct HMACTests {
    @Test func rfc4231Vectors() {
        // RFC 4231 test cases 1 and 2.
        let key1 = [UInt8](repeating: 0x0b, count: 20)
        let mac1 = HMACSHA256.mac(key: key1, message: Array("Hi There".utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(mac1 == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(HMACSHA256.hex(key: "Jefe", message: "what do ya want for nothing?") == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // A key longer than the block is hashed first (test case 6).
        let key6 = [UInt8](repeating: 0xaa, count: 131)
        let mac6 = HMACSHA256.mac(key: key6, message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        #expect(mac6.map { String(format: "%02x", $0) }.joined() == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }
}

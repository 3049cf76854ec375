import FactorCore
@testable import FactorData
import Foundation
import Testing

@Suite("CSV file parsing")
struct CSVParserTests {
    /// Writes one file into a fresh directory and returns the error text of opening and loading it.
    func loadError(_ fileName: String, _ text: String, extra: [String: String] = [:]) throws -> String? {
        let dir = try TempDir("csverr")
        defer { dir.remove() }
        try dir.write(fileName, text)
        for (name, content) in extra { try dir.write(name, content) }
        return errorText {
            let source = try DataSources.open(directory: dir.path, kind: .csv, cacheDirectory: dir.path + "/.cache")
            _ = try source.load(DataRequest())
        }
    }

    @Test("Bad number: file, line and column")
    func badNumber() throws {
        let text = try loadError("SH600000_daily.csv", "date,open,close\n2020-01-02,1,2\n2020-01-03,1.5,abc\n")
        let message = try #require(text)
        #expect(message.contains("SH600000_daily.csv:3:"))
        #expect(message.contains("'abc'") && message.contains("column 'close'"))
    }

    @Test("Unsorted date: file and line")
    func unsortedDate() throws {
        let message = try #require(try loadError("A_daily.csv", "date,close\n2020-01-03,1\n2020-01-02,2\n"))
        #expect(message.contains("A_daily.csv:3:"))
        #expect(message.contains("not in time order"))
    }

    @Test("Duplicate date: file, line and the first line")
    func duplicateDate() throws {
        let message = try #require(try loadError("A_daily.csv", "date,close\n2020-01-02,1\n2020-01-03,2\n2020-01-03,3\n"))
        #expect(message.contains("A_daily.csv:4:"))
        #expect(message.contains("duplicate") && message.contains("line 3"))
    }

    @Test("Missing date column: lists the header")
    func missingDateColumn() throws {
        let message = try #require(try loadError("A_daily.csv", "when,open,close\n2020-01-02,1,2\n"))
        #expect(message.contains("A_daily.csv:1:"))
        #expect(message.contains("no time column") && message.contains("when, open, close"))
    }

    @Test("Ragged row: file, line, cell counts")
    func raggedRow() throws {
        let short = try #require(try loadError("A_daily.csv", "date,open,close\n2020-01-02,1,2\n2020-01-03,1\n"))
        #expect(short.contains("A_daily.csv:3:") && short.contains("2 cells") && short.contains("3 columns"))
        let long = try #require(try loadError("A_daily.csv", "date,open,close\n2020-01-02,1,2,3\n"))
        #expect(long.contains("A_daily.csv:2:") && long.contains("4 cells"))
    }

    @Test("Unparsable date: file, line and text")
    func badDate() throws {
        let message = try #require(try loadError("A_daily.csv", "date,close\n2020-01-02,1\n2020-13-45,2\n"))
        #expect(message.contains("A_daily.csv:3:") && message.contains("'2020-13-45'"))
        let empty = try #require(try loadError("A_daily.csv", "date,close\n,1\n"))
        #expect(empty.contains("A_daily.csv:2:"))
    }

    @Test("Date missing from calendars/day.txt: file and line")
    func dateNotOnCalendar() throws {
        let message = try #require(try loadError(
            "A_daily.csv", "date,close\n2020-01-02,1\n2020-01-04,2\n",
            extra: ["calendars/day.txt": "2020-01-02\n2020-01-03\n"]))
        #expect(message.contains("A_daily.csv:3:") && message.contains("2020-01-04") && message.contains("day.txt"))
    }

    @Test("Malformed files are errors, never crashes: empty, header only, unclosed quote")
    func oddFiles() throws {
        #expect(try loadError("A_daily.csv", "")?.contains("empty file") == true)
        let unclosed = try #require(try loadError("A_daily.csv", "date,close\n2020-01-02,\"1\n"))
        #expect(unclosed.contains("A_daily.csv:2:") && unclosed.contains("quote"))
        let dir = try TempDir()
        defer { dir.remove() }
        try dir.write("A_daily.csv", "date,close\n")
        try dir.write("B_daily.csv", "date,close\n2020-01-02,1\n")
        let loaded = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.c").load(DataRequest())
        #expect(loaded.data.instruments == ["B"])
        #expect(loaded.warnings.contains { $0.contains("A_daily.csv has no data rows") })
    }

    @Test("BOM, CRLF, no final newline, nan/inf, empty cells, quotes, blank lines")
    func formatting() throws {
        let text = "\u{FEFF}\"Date\",Close,VOLUME\r\n2020-01-02,1.5,\"100\"\r\n\r\n2020-01-03,nan,\r\n2020-01-06, -inf ,7"
        let parsed = try CSVFileParser.parse(bytes: Array(text.utf8), path: "x.csv")
        #expect(parsed.fieldNames == ["close", "volume"])
        #expect(parsed.times == [day("2020-01-02"), day("2020-01-03"), day("2020-01-06")])
        #expect(parsed.lines == [2, 4, 5])
        #expect(parsed.value(field: 0, row: 0) == 1.5)
        #expect(parsed.value(field: 0, row: 1).isNaN)
        #expect(parsed.value(field: 0, row: 2) == -.infinity)
        #expect(parsed.value(field: 1, row: 0) == 100)
        #expect(parsed.value(field: 1, row: 1).isNaN)
        #expect(parsed.value(field: 1, row: 2) == 7)
    }

    @Test("Old Mac line ends (CR only) and mixed line ends")
    func carriageReturns() throws {
        let parsed = try CSVFileParser.parse(bytes: Array("date,close\r2020-01-02,1\r2020-01-03,2\n2020-01-06,3\r\n2020-01-07,4\r".utf8),
                                             path: "cr.csv")
        #expect(parsed.rowCount == 4)
        #expect(parsed.lines == [2, 3, 4, 5])
        #expect((0..<4).map { parsed.value(field: 0, row: $0) } == [1, 2, 3, 4])
    }

    @Test("Known text columns (symbol, code, name) are dropped; other text is an error")
    func textColumns() throws {
        let parsed = try CSVFileParser.parse(
            bytes: Array("date,code,name,close\n2020-01-02,sh.600000,浦发银行,1\n2020-01-03,sh.600000,浦发银行,2\n".utf8),
            path: "x.csv")
        #expect(parsed.fieldNames == ["close"])
        #expect(parsed.value(field: 0, row: 1) == 2)
        let numericCode = try CSVFileParser.parse(bytes: Array("date,code,close\n2020-01-02,600000,1\n".utf8), path: "y.csv")
        #expect(numericCode.fieldNames == ["code", "close"])
        let message = try #require(errorText {
            _ = try CSVFileParser.parse(bytes: Array("date,sector,close\n2020-01-02,bank,1\n".utf8), path: "z.csv")
        })
        #expect(message.contains("z.csv:2:") && message.contains("column 'sector'"))
    }

    @Test("Date-times, a separate time column, duplicate header names")
    func times() throws {
        let parsed = try CSVFileParser.parse(
            bytes: Array("datetime,close\n2023-02-01 09:35:00,1\n2023-02-01T09:40,2\n".utf8), path: "x.csv")
        #expect(parsed.times == [day("2023-02-01") + 9 * 3600 + 35 * 60, day("2023-02-01") + 9 * 3600 + 40 * 60])
        let split = try CSVFileParser.parse(
            bytes: Array("trade_date,time,close\n20230201,09:35:00,1\n20230201,0940,2\n".utf8), path: "x.csv")
        #expect(split.times == parsed.times)
        #expect(split.fieldNames == ["close"])
        let dup = try #require(errorText {
            _ = try CSVFileParser.parse(bytes: Array("date,close,Close\n2020-01-02,1,2\n".utf8), path: "d.csv")
        })
        #expect(dup.contains("d.csv:1:") && dup.contains("'close'"))
    }

    @Test("Values equal Double(text) for every cell of a real file")
    func realFileExact() throws {
        guard SharedData.available else { return }
        let path = SharedData.path("data/cn_csi300_daily/SH600000_daily_hfq.csv")
        let parsed = try CSVFileParser.parse(path: path)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(parsed.rowCount == lines.count)
        for (r, line) in lines.enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            for k in 0..<parsed.fieldNames.count {
                let text = String(cells[k + 1])
                let expected = text.isEmpty ? Double.nan : Double(text)
                let got = parsed.value(field: k, row: r)
                #expect(got.bitPattern == expected?.bitPattern || (got.isNaN && expected?.isNaN == true))
            }
        }
    }

    @Test("File names: code and frequency")
    func fileNames() {
        #expect(CSVFileName("SH600000_daily_hfq.csv") == CSVFileName(code: "SH600000", frequency: .day))
        #expect(CSVFileName("sh600000.csv") == CSVFileName(code: "SH600000", frequency: nil))
        #expect(CSVFileName("SH510050_5min.csv") == CSVFileName(code: "SH510050", frequency: .minutes(5)))
        #expect(CSVFileName("SZ000001_15min.CSV") == CSVFileName(code: "SZ000001", frequency: .minutes(15)))
        #expect(CSVFileName("SH600000_daily.csv") == CSVFileName(code: "SH600000", frequency: .day))
        #expect(CSVFileName("SH600000_1min.csv")?.frequency == .minutes(1))
        #expect(CSVFileName("README.md") == nil)
        #expect(CSVFileName(".hidden.csv") == nil)
    }
}

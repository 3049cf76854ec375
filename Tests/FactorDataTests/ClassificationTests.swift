import FactorCore
@testable import FactorData
import Foundation
import Testing

/// `$industry` and `$sector` from `meta/industry*.csv`, point in time by `as_of`.
@Suite("Classification files")
struct ClassificationTests {
    @Test("Dated rows take effect on their date; the earliest stands for the dates before it; undated rows for all")
    func pointInTime() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try CSVSourceTests.writeDaily(dir, calendar: true)
        try dir.write("meta/industry_test.csv", """
            symbol,name,csrc_section,industry_code,as_of
            A,Alpha,C,C39,2020-01-03
            A,Alpha,J,J66,2020-01-07
            B,Beta,K,K70,

            """)
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache")
        let data = try source.load(DataRequest(categories: ["industry", "sector"])).data
        let industry = try #require(data.categories["industry"]), sector = try #require(data.categories["sector"])
        func names(_ panel: CategoryPanel, _ code: String) -> [String] {
            let i = data.instrumentIndex(code)!
            return (0..<data.calendar.count).map { t in panel.code(i, t) < 0 ? "-" : panel.names[Int(panel.code(i, t))] }
        }
        // Calendar 2019-12-31 … 2020-01-09: A lives 01-02…01-08, then J66 from 01-07 on.
        #expect(names(industry, "A") == ["C39", "C39", "C39", "C39", "J66", "J66", "J66"])
        #expect(names(sector, "A") == ["C", "C", "C", "C", "J", "J", "J"])
        #expect(names(industry, "B") == Array(repeating: "K70", count: 7))
        #expect(names(industry, "C") == Array(repeating: "-", count: 7))  // not classified
    }

    @Test("No file, two files, a missing column and a bad line are clear errors")
    func errors() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try CSVSourceTests.writeDaily(dir, calendar: true)
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "/.cache")
        #expect { try source.load(DataRequest(categories: ["industry"])) } throws: { "\($0)".contains("needs a classification file") }
        try dir.write("meta/industry_a.csv", "symbol,industry_code\nA,X\n")
        try dir.write("meta/industry_b.csv", "symbol,industry_code\nA,Y\n")
        #expect { try source.load(DataRequest(categories: ["industry"])) } throws: { "\($0)".contains("several classification files") }
        try FileManager.default.removeItem(atPath: dir.path + "/meta/industry_b.csv")
        #expect { try source.load(DataRequest(categories: ["sector"])) } throws: { "\($0)".contains("no column for $sector") }
        try dir.write("meta/industry_a.csv", "symbol,industry_code,as_of\nA,X,2020-13-01\n")
        #expect { try source.load(DataRequest(categories: ["industry"])) } throws: { "\($0)".contains("line 2: as_of '2020-13-01' is not a date") }
    }
}

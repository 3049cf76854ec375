@testable import FactorData
import Foundation
import Testing

@Suite("Data directory location")
struct DataLocatorTests {
    @Test("Flag, then QLIB_DATA_PATH / FACTOR_DATA_PATH, then ./stockdata; a helpful error when none")
    func order() throws {
        let dir = try TempDir("locate")
        defer { dir.remove() }
        try dir.write("flag/x.csv", "date,close\n2020-01-02,1\n")
        try dir.write("qlib/calendars/day.txt", "2020-01-02\n")
        try dir.write("csv/x.csv", "date,close\n2020-01-02,1\n")
        let cwd = dir.path + "/work"
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        let env = ["QLIB_DATA_PATH": dir.path + "/qlib", "FACTOR_DATA_PATH": dir.path + "/csv"]

        let flag = try DataLocator.resolve(explicitPath: dir.path + "/flag", environment: env, workingDirectory: cwd)
        #expect(flag.directory == dir.path + "/flag" && flag.origin == "flag" && flag.kind == nil)
        let qlib = try DataLocator.resolve(explicitPath: nil, environment: env, workingDirectory: cwd)
        #expect(qlib.directory == dir.path + "/qlib" && qlib.kind == .qlib)
        let csv = try DataLocator.resolve(explicitPath: nil, kind: .csv, environment: env, workingDirectory: cwd)
        #expect(csv.directory == dir.path + "/csv" && csv.kind == .csv)
        let fromEnv = try DataLocator.resolve(explicitPath: nil, environment: ["FACTOR_DATA_PATH": dir.path + "/csv"],
                                              workingDirectory: cwd)
        #expect(fromEnv.origin == "FACTOR_DATA_PATH")

        let none = try #require(errorText { _ = try DataLocator.resolve(explicitPath: nil, environment: [:], workingDirectory: cwd) })
        #expect(none.contains("--data") && none.contains("FACTOR_DATA_PATH") && none.contains("QLIB_DATA_PATH")
            && none.contains("stockdata"))
        try dir.write("work/stockdata/a.csv", "date,close\n2020-01-02,1\n")
        let local = try DataLocator.resolve(explicitPath: nil, environment: [:], workingDirectory: cwd)
        #expect(local.directory == cwd + "/stockdata" && local.origin == "stockdata")
        // A given path that does not exist is an error, not skipped.
        let missing = try #require(errorText {
            _ = try DataLocator.resolve(explicitPath: nil, environment: ["FACTOR_DATA_PATH": "/no/such/dir"], workingDirectory: cwd)
        })
        #expect(missing.contains("/no/such/dir") && missing.contains("FACTOR_DATA_PATH"))
        #expect(errorText { _ = try DataLocator.resolve(explicitPath: "/no/such/dir", environment: env) }?.contains("does not exist") == true)
        // Relative flag paths are taken from the working directory.
        #expect(try DataLocator.resolve(explicitPath: "stockdata", environment: [:], workingDirectory: cwd).directory
            == cwd + "/stockdata")
    }

    @Test("The synthetic demo market loads through the CSV source")
    func syntheticMarket() throws {
        let dir = try TempDir("synthetic")
        defer { dir.remove() }
        try SyntheticMarket.write(to: dir.path)
        let source = try DataSources.open(directory: dir.path, cacheDirectory: dir.path + "-cache")
        defer { try? FileManager.default.removeItem(atPath: dir.path + "-cache") }
        #expect(try source.universeNames() == ["all", "core20"])
        let loaded = try source.load(DataRequest(universe: .named("core20"), auxiliary: [SyntheticMarket.benchmarkCode]))
        #expect(loaded.data.auxiliary[SyntheticMarket.benchmarkCode] != nil)
        let counts = (0..<loaded.data.calendar.count).map { t in
            (0..<loaded.data.instruments.count).filter { loaded.data.membership.isMember($0, t) }.count
        }
        #expect(counts.allSatisfy { $0 <= 20 })
        #expect(try source.instrumentCodes().count == SyntheticMarket.instrumentCount)
    }
}

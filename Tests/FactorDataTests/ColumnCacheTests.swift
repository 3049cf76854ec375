import FactorCore
@testable import FactorData
import Foundation
import Testing

@Suite("Column cache")
struct ColumnCacheTests {
    static func fixture() throws -> TempDir {
        let dir = try TempDir("cache")
        try dir.write("SH600000_daily_hfq.csv", "date,open,close,volume\n2020-01-02,1,1.5,100\n2020-01-03,1.5,,200\n2020-01-06,2,2.5,300\n")
        try dir.write("SZ000001_daily_hfq.csv", "date,open,close,volume\n2020-01-03,10,10.5,1\n2020-01-06,10.5,11,2\n")
        try dir.write("instruments/csi300.txt", "SH600000\t2020-01-02\t2020-01-03\n")
        return dir
    }

    static func assertSame(_ a: MarketData, _ b: MarketData) {
        #expect(a.instruments == b.instruments)
        #expect(a.calendar == b.calendar)
        #expect(a.spans == b.spans)
        #expect(a.membership == b.membership)
        #expect(a.fieldNames == b.fieldNames)
        for (name, panel) in a.fields { #expect(sameValues(panel.values, b.fields[name]?.values ?? []), "\(name)") }
    }

    @Test("A cache hit returns identical data; a changed, added or removed file invalidates it")
    func hitAndInvalidation() throws {
        let data = try Self.fixture()
        let cache = try TempDir("cachedir")
        defer { data.remove(); cache.remove() }
        let first = try CSVDirectorySource(directory: data.path, cacheDirectory: cache.path)
        let parsed = try first.load(DataRequest())
        #expect(parsed.origin == .parsedCSV)
        let file = try #require(first.cache.filePath(dataDirectory: first.directory, frequency: .day))
        #expect(FileManager.default.fileExists(atPath: file))
        #expect(!FileManager.default.fileExists(atPath: data.path + "/.cache"))  // nothing beside the data
        #expect(try first.load(DataRequest()).origin == .memory)

        let second = try CSVDirectorySource(directory: data.path, cacheDirectory: cache.path)
        let cached = try second.load(DataRequest())
        #expect(cached.origin == .columnCache)
        Self.assertSame(parsed.data, cached.data)
        Self.assertSame(try second.load(DataRequest(universe: .named("csi300"))).data,
                        try first.load(DataRequest(universe: .named("csi300"))).data)

        // Change a value (and the mtime): both the in-memory table and the cache file are stale.
        try data.write("SH600000_daily_hfq.csv", "date,open,close,volume\n2020-01-02,1,1.5,100\n2020-01-03,1.5,9.75,200\n2020-01-06,2,2.5,300\n")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)],
                                              ofItemAtPath: data.path + "/SH600000_daily_hfq.csv")
        let changed = try second.load(DataRequest())
        #expect(changed.origin == .parsedCSV)
        #expect(changed.data.value("close", "SH600000", day("2020-01-03")) == 9.75)
        #expect(try CSVDirectorySource(directory: data.path, cacheDirectory: cache.path).load(DataRequest()).origin == .columnCache)

        // Add a file.
        try data.write("SZ000002_daily_hfq.csv", "date,open,close,volume\n2020-01-06,3,3.5,1\n")
        let added = try CSVDirectorySource(directory: data.path, cacheDirectory: cache.path).load(DataRequest())
        #expect(added.origin == .parsedCSV && added.data.instruments.count == 3)
        // Remove it again.
        try FileManager.default.removeItem(atPath: data.path + "/SZ000002_daily_hfq.csv")
        let removed = try CSVDirectorySource(directory: data.path, cacheDirectory: cache.path).load(DataRequest())
        #expect(removed.origin == .parsedCSV && removed.data.instruments.count == 2)
    }

    @Test("A corrupt or truncated cache file is ignored and rebuilt")
    func corrupt() throws {
        let data = try Self.fixture()
        let cache = try TempDir("cachedir")
        defer { data.remove(); cache.remove() }
        let source = try CSVDirectorySource(directory: data.path, cacheDirectory: cache.path)
        let reference = try source.load(DataRequest())
        let file = try #require(source.cache.filePath(dataDirectory: source.directory, frequency: .day))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        // Flip a byte in the payload (the last value before the trailer).
        bytes[bytes.count - 20] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: file))
        let afterFlip = try CSVDirectorySource(directory: data.path, cacheDirectory: cache.path).load(DataRequest())
        #expect(afterFlip.origin == .parsedCSV)
        Self.assertSame(reference.data, afterFlip.data)
        // Truncated, then garbage.
        try Data(bytes.prefix(40)).write(to: URL(fileURLWithPath: file))
        #expect(try CSVDirectorySource(directory: data.path, cacheDirectory: cache.path).load(DataRequest()).origin == .parsedCSV)
        try Data("not a cache".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try CSVDirectorySource(directory: data.path, cacheDirectory: cache.path).load(DataRequest()).origin == .parsedCSV)
        #expect(try CSVDirectorySource(directory: data.path, cacheDirectory: cache.path).load(DataRequest()).origin == .columnCache)
    }

    @Test("An unwritable cache folder is not an error")
    func unwritable() throws {
        let data = try Self.fixture()
        defer { data.remove() }
        let blocker = try data.write("blocker", "a file where a folder would be")
        let source = try CSVDirectorySource(directory: data.path, cacheDirectory: blocker + "/cache")
        let loaded = try source.load(DataRequest())
        #expect(loaded.origin == .parsedCSV)
        #expect(loaded.data.instruments == ["SH600000", "SZ000001"])
        let again = try CSVDirectorySource(directory: data.path, cacheDirectory: blocker + "/cache").load(DataRequest())
        #expect(again.origin == .parsedCSV)
    }

    @Test("Cache folder resolution: flag, FACTOR_CACHE=off, FACTOR_CACHE_DIR, XDG_CACHE_HOME, ~/.cache")
    func resolution() {
        #expect(ColumnCache.resolve(explicit: "/x", environment: ["FACTOR_CACHE": "off"]).directory == "/x")
        #expect(ColumnCache.resolve(explicit: nil, environment: ["FACTOR_CACHE": "off", "FACTOR_CACHE_DIR": "/y"]).directory == nil)
        #expect(ColumnCache.resolve(explicit: nil, environment: ["FACTOR_CACHE_DIR": "/y", "XDG_CACHE_HOME": "/z"]).directory == "/y")
        #expect(ColumnCache.resolve(explicit: nil, environment: ["XDG_CACHE_HOME": "/z", "HOME": "/h"]).directory == "/z/factorlab")
        #expect(ColumnCache.resolve(explicit: nil, environment: ["HOME": "/h"]).directory == "/h/.cache/factorlab")
        let cache = ColumnCache(directory: "/c")
        let a = cache.filePath(dataDirectory: "/data/a/stockdata", frequency: .day)
        let b = cache.filePath(dataDirectory: "/data/b/stockdata", frequency: .day)
        #expect(a != b && a?.hasPrefix("/c/stockdata-") == true && a?.hasSuffix("-day.fcols") == true)
        #expect(cache.filePath(dataDirectory: "/data/a/stockdata", frequency: .minutes(5)) != a)
        #expect(ColumnCache(directory: nil).filePath(dataDirectory: "/d", frequency: .day) == nil)
    }

    @Test("Real data: the cached load of all 511 files equals the parsed one",
          .enabled(if: SharedData.available, SharedData.skipNote))
    func realRoundTrip() throws {
        let cache = try TempDir("cachedir")
        defer { cache.remove() }
        let path = SharedData.path("data/cn_csi300_daily")
        let clock = ContinuousClock()
        var start = clock.now
        let parsed = try CSVDirectorySource(directory: path, cacheDirectory: cache.path).load(DataRequest())
        let parseTime = clock.now - start
        start = clock.now
        let cached = try CSVDirectorySource(directory: path, cacheDirectory: cache.path).load(DataRequest())
        let cacheTime = clock.now - start
        print("cn_csi300_daily (this build): parse + load \(parseTime), cached load \(cacheTime)")
        #expect(parsed.origin == .parsedCSV && cached.origin == .columnCache)
        #expect(parsed.data.instruments.count == 511)
        #expect(parsed.data.fields["close"].map { $0.values.filter { !$0.isNaN }.count } == 698_987)
        Self.assertSame(parsed.data, cached.data)
    }
}

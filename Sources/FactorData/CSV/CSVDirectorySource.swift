import FactorCore
import Foundation

/// A directory of per-instrument CSV files (`SH600000_daily_hfq.csv`, `SH510050_5min.csv`, `SZ000001.csv`).
///
/// - Instruments: the top-level `*.csv` files; the code is the file name before the frequency suffix, upper case.
/// - Calendar: `calendars/<freq>.txt` when present (`day.txt`, `5min.txt`), else the union of the files' times.
///   Each instrument is laid on it from its first to its last row; calendar rows without a row are NaN.
/// - Universes: `all` (= `instruments/all.txt` when present, else every instrument over its whole span) and
///   `instruments/<name>.txt`.
/// - Benchmarks: `benchmarks/*.csv`, loadable as auxiliary series but not members of `all`.
///
/// Parsed tables are kept in memory by this value (and its copies) and in the `ColumnCache`; both are reused
/// only while no CSV file or the calendar file changed.
public struct CSVDirectorySource: MarketDataSource {
    public var kind: SourceKind { .csv }
    public let directory: String
    public let baseFrequency: Frequency
    /// The column cache this source reads and writes.
    public let cache: ColumnCache
    private let memo: Locked<Memo?>

    private struct Memo {
        var manifest: CacheManifest
        var table: ColumnTable
    }

    /// Opens `directory`; the cache folder is `cacheDirectory`, else as `ColumnCache.resolve` says.
    public init(directory: String, cacheDirectory: String? = nil) throws {
        let path = FileSystem.canonicalPath(directory)
        guard let status = FileSystem.status(path) else { throw DataError.directoryNotFound(directory) }
        guard status.isDirectory else { throw DataError.notADirectory(directory) }
        let layout = try CSVDirectoryLayout.scan(path)
        self.directory = path
        self.baseFrequency = layout.frequency
        self.cache = ColumnCache.resolve(explicit: cacheDirectory)
        self.memo = Locked(nil)
    }

    /// The parsed table of the directory: from memory, the cache, or parsing the files.
    func table() throws -> (ColumnTable, CSVDirectoryLayout, DataOrigin) {
        let layout = try CSVDirectoryLayout.scan(directory)
        let manifest = layout.manifest()
        if let memo = memo.withLock({ $0 }), memo.manifest == manifest, memo.table.frequency == layout.frequency {
            return (memo.table, layout, .memory)
        }
        if let cached = cache.load(dataDirectory: directory, frequency: layout.frequency, manifest: manifest) {
            memo.withLock { $0 = Memo(manifest: manifest, table: cached) }
            return (cached, layout, .columnCache)
        }
        let table = try CSVTableBuilder.build(layout)
        // Only cache what was read from unchanged files, and only a table without unreadable files.
        if layout.manifest() == manifest && table.unreadable.isEmpty {
            cache.store(table, dataDirectory: directory, manifest: manifest)
        }
        memo.withLock { $0 = Memo(manifest: manifest, table: table) }
        return (table, layout, .parsedCSV)
    }

    public func calendar(frequency: Frequency? = nil) throws -> MarketCalendar {
        try DataLoader.calendar(table().0, frequency: frequency).0
    }

    public func fieldNames() throws -> [String] { try table().0.fieldNames }

    public func instrumentCodes() throws -> [String] { try table().0.codes }

    /// Codes of the files in `benchmarks/`, sorted: loadable as auxiliary series.
    public func benchmarkCodes() throws -> [String] { try CSVDirectoryLayout.scan(directory).benchmarks.map(\.code) }

    public func universeNames() throws -> [String] { UniverseCatalog(directory: directory).names }

    public func load(_ request: DataRequest) throws -> LoadedData {
        let (table, layout, origin) = try table()
        let benchmarks = layout.benchmarks
        let calendarName = layout.calendarPath ?? "(union of the files' dates)"
        let context = DataLoader.Context(
            store: table, catalog: UniverseCatalog(directory: directory), benchmarks: benchmarks.map(\.code),
            benchmarkStore: { codes in
                try CSVTableBuilder.buildBenchmarks(benchmarks.filter { codes.contains($0.code) },
                                                    calendar: table.calendar, calendarName: calendarName)
            },
            warnings: table.warnings, origin: origin)
        return try DataLoader.load(request, context)
    }
}

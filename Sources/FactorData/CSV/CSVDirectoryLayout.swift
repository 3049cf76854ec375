import FactorCore

/// The files of a CSV data directory: instrument files, benchmark files and the calendar file.
///
/// Only top-level `*.csv` files are instruments; `benchmarks/*.csv` are benchmarks; `calendars/<freq>.txt`
/// (`day.txt`, `5min.txt`, …) is the calendar when present. Other folders (`meta/`, `daily/`, …) are ignored.
struct CSVDirectoryLayout: Sendable {
    /// One instrument or benchmark file.
    struct Entry: Sendable, Equatable {
        var code: String
        var path: String
    }

    var directory: String
    var frequency: Frequency
    /// Instrument files, sorted by code.
    var instruments: [Entry]
    /// Benchmark files, sorted by code.
    var benchmarks: [Entry]
    /// `calendars/<frequency>.txt` when it exists.
    var calendarPath: String?

    /// Lists `directory` (an absolute path) and works out its frequency.
    static func scan(_ directory: String) throws -> CSVDirectoryLayout {
        guard let names = FileSystem.list(directory) else {
            if FileSystem.status(directory) == nil { throw DataError.directoryNotFound(directory) }
            throw DataError.unreadable(path: directory, reason: "cannot list the directory")
        }
        var entries: [(CSVFileName, String)] = []
        for name in names {
            guard let parsed = CSVFileName(name) else { continue }
            let path = FileSystem.join(directory, name)
            guard FileSystem.isRegularFile(path) else { continue }
            entries.append((parsed, path))
        }
        guard !entries.isEmpty else { throw DataError.noInstrumentFiles(directory: directory) }

        // Frequency: from suffixes, or inferred from the first un-suffixed file.
        var byFrequency: [Frequency: String] = [:]
        for (parsed, path) in entries {
            if let f = parsed.frequency, byFrequency[f] == nil { byFrequency[f] = path }
        }
        if let plain = entries.first(where: { $0.0.frequency == nil }) {
            let f = try inferFrequency(plain.1)
            if byFrequency[f] == nil { byFrequency[f] = plain.1 }
        }
        guard byFrequency.count == 1, let frequency = byFrequency.keys.first else {
            let found = byFrequency.sorted { $0.value < $1.value }.map { "\($0.key): \(lastComponent($0.value))" }
            throw DataError.mixedFrequencies(directory: directory, found: found)
        }
        let instruments = try sortedUnique(entries.map { Entry(code: $0.0.code, path: $0.1) })

        var benchmarks: [Entry] = []
        let benchDir = FileSystem.join(directory, "benchmarks")
        if FileSystem.isDirectory(benchDir), let benchNames = FileSystem.list(benchDir) {
            for name in benchNames {
                guard let parsed = CSVFileName(name) else { continue }
                benchmarks.append(Entry(code: parsed.code, path: FileSystem.join(benchDir, name)))
            }
            benchmarks = try sortedUnique(benchmarks)
        }
        let calendarPath = FileSystem.join(FileSystem.join(directory, "calendars"), "\(frequency).txt")
        return CSVDirectoryLayout(directory: directory, frequency: frequency, instruments: instruments,
                                  benchmarks: benchmarks,
                                  calendarPath: FileSystem.isRegularFile(calendarPath) ? calendarPath : nil)
    }

    private static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    private static func sortedUnique(_ entries: [Entry]) throws -> [Entry] {
        let sorted = entries.sorted { $0.code < $1.code || ($0.code == $1.code && $0.path < $1.path) }
        for i in sorted.indices.dropFirst() where sorted[i].code == sorted[i - 1].code {
            throw DataError.duplicateInstrument(code: sorted[i].code, files: [sorted[i - 1].path, sorted[i].path])
        }
        return sorted
    }

    /// Daily when every time is at 00:00; otherwise the smallest gap between bars of one day, in minutes.
    private static func inferFrequency(_ path: String) throws -> Frequency {
        let parsed = try CSVFileParser.parse(path: path)
        let times = parsed.times
        if times.allSatisfy({ $0 % 86_400 == 0 }) { return .day }
        var gap = Timestamp.max
        for i in times.indices.dropFirst()
        where TimeFormat.dayNumber(times[i]) == TimeFormat.dayNumber(times[i - 1]) {
            gap = min(gap, times[i] - times[i - 1])
        }
        guard gap != .max else {
            throw DataError.cannotInferFrequency(path: path, reason: "no two bars on the same day")
        }
        guard gap % 60 == 0, gap / 60 <= 240 else {
            throw DataError.cannotInferFrequency(path: path, reason: "bars \(gap) seconds apart")
        }
        return .minutes(Int(gap / 60))
    }

    /// Size and modification time of every instrument file and the calendar file.
    func manifest() -> CacheManifest {
        var items = instruments.map { CacheManifest.Item(path: $0.path) }
        if let calendarPath { items.append(CacheManifest.Item(path: calendarPath)) }
        return CacheManifest(items: items)
    }
}

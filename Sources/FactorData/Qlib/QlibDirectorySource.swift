import FactorCore

/// A Qlib data directory (`spec/qlib-data-format.md`): `calendars/<freq>.txt`, `instruments/*.txt`,
/// `features/<symbol>/<field>.<freq>.bin` (little-endian float32, first value = calendar index of the first row).
///
/// The base frequency is `day` when `calendars/day.txt` exists, else the finest minute calendar; minute calendars
/// beside a day calendar serve intraday requests. Fields are the
/// union of the `.bin` files found; values are widened from Float to Double exactly. `all` is
/// `instruments/all.txt` (or every features folder when there is none); features folders outside `all.txt`
/// (indices) can be loaded as auxiliary series. Only the requested instruments, fields and rows are read.
public struct QlibDirectorySource: MarketDataSource {
    public var kind: SourceKind { .qlib }
    public let directory: String
    public let baseFrequency: Frequency
    let store: QlibStore
    /// Minute stores beside a day store (a directory may hold `day` and `5min` data): intraday requests read the
    /// finest one that divides the requested bar, instead of failing to resample day bars.
    let minuteStores: [Int: QlibStore]
    private let benchmarks: [String]

    /// Opens `directory`: reads its calendars, lists its features folders and their fields.
    public init(directory: String) throws {
        let path = FileSystem.canonicalPath(directory)
        guard let status = FileSystem.status(path) else { throw DataError.directoryNotFound(directory) }
        guard status.isDirectory else { throw DataError.notADirectory(directory) }
        let calendars = FileSystem.join(path, "calendars")
        let minutes = (FileSystem.list(calendars) ?? []).compactMap { name -> Int? in
            guard name.hasSuffix(".txt") else { return nil }
            return Frequency(String(name.dropLast(4)))?.minutes
        }.sorted()
        let hasDay = FileSystem.isRegularFile(FileSystem.join(calendars, "day.txt"))
        guard let frequency: Frequency = hasDay ? .day : minutes.first.map({ .minutes($0) }) else {
            throw DataError.missingCalendar(directory: path, expected: "calendars/day.txt (or calendars/<N>min.txt)")
        }

        let featuresDir = FileSystem.join(path, "features")
        var folders: [String: String] = [:]
        for name in FileSystem.list(featuresDir) ?? [] where !name.hasPrefix(".") {
            let folder = FileSystem.join(featuresDir, name)
            if FileSystem.isDirectory(folder) { folders[name.uppercased()] = folder }
        }
        let catalog = UniverseCatalog(directory: path)
        var codes = folders.keys.sorted()
        if let all = try catalog.members(of: "all") {
            let listed = Set(all.map(\.code))
            codes = codes.filter { listed.contains($0) }
        }
        func makeStore(_ frequency: Frequency) throws -> QlibStore {
            let times = try CalendarFile.read(FileSystem.join(calendars, "\(frequency).txt"))
            let suffix = ".\(frequency).bin"
            let folderList = folders.values.sorted()
            let fieldLists = Parallel.map(folderList.count) { QlibStore.fields(in: folderList[$0], suffix: suffix) }
            return QlibStore(directory: path, frequency: frequency, calendar: MarketCalendar(times: times, frequency: frequency), codes: codes,
                             folders: folders, fieldNames: Set(fieldLists.joined()).sorted())
        }
        self.directory = path
        self.baseFrequency = frequency
        self.benchmarks = folders.keys.filter { !codes.contains($0) }.sorted()
        self.store = try makeStore(frequency)
        var minuteStores: [Int: QlibStore] = [:]
        if hasDay { for m in minutes { minuteStores[m] = try makeStore(.minutes(m)) } }
        self.minuteStores = minuteStores
    }

    /// The store a request at `frequency` reads: for an intraday bar, the finest minute data that divides it;
    /// otherwise the base data.
    func store(for frequency: Frequency?) -> QlibStore {
        guard let m = frequency?.minutes, let finest = minuteStores.keys.sorted().first(where: { m % $0 == 0 }) else { return store }
        return minuteStores[finest]!
    }

    public func calendar(frequency: Frequency? = nil) throws -> MarketCalendar {
        try DataLoader.calendar(store(for: frequency), frequency: frequency).0
    }

    public func fieldNames() throws -> [String] { store.fieldNames }

    public func instrumentCodes() throws -> [String] { store.codes }

    /// Features folders that are not instruments (benchmarks, indices), sorted: loadable as auxiliary series.
    public func benchmarkCodes() throws -> [String] { benchmarks }

    public func universeNames() throws -> [String] { UniverseCatalog(directory: directory).names }

    public func load(_ request: DataRequest) throws -> LoadedData {
        let store = self.store(for: request.frequency)
        let context = DataLoader.Context(
            store: store, catalog: UniverseCatalog(directory: directory), benchmarks: benchmarks,
            benchmarkStore: { _ in store }, warnings: [], origin: .qlibBinary)
        return try DataLoader.load(request, context)
    }
}

/// Opens a data directory as the right kind of source.
public enum DataSources {
    /// Opens `directory` as `kind`; when `kind` is nil, as Qlib when it has a `features/` folder, else as CSV.
    /// `cacheDirectory` is the CSV column-cache folder (see `ColumnCache.resolve`).
    public static func open(directory: String, kind: SourceKind? = nil,
                            cacheDirectory: String? = nil) throws -> any MarketDataSource {
        let path = FileSystem.canonicalPath(directory)
        guard let status = FileSystem.status(path) else { throw DataError.directoryNotFound(directory) }
        guard status.isDirectory else { throw DataError.notADirectory(directory) }
        let resolved = kind ?? (FileSystem.isDirectory(FileSystem.join(path, "features")) ? .qlib : .csv)
        switch resolved {
        case .csv: return try CSVDirectorySource(directory: path, cacheDirectory: cacheDirectory)
        case .qlib: return try QlibDirectorySource(directory: path)
        }
    }

    /// The directory's classification file (`meta/industry.csv` or its one `meta/industry_*.csv`), if it has one.
    public static func classificationFile(directory: String) throws -> String? {
        try Classification.find(in: directory)?.path
    }

    /// The categorical fields (`industry`, `sector`) the directory's classification file offers; empty without one.
    public static func categoryNames(directory: String) throws -> Set<String> {
        try Classification.find(in: directory)?.categories ?? []
    }
}

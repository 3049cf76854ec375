import Foundation

/// Finds the data directory for the CLI: the path flag first, then the environment, then `./stockdata`.
public enum DataLocator {
    /// A located data directory and how it was found.
    public struct Location: Sendable, Equatable {
        /// The directory path (as given or found).
        public var directory: String
        /// The kind to open it as; nil = detect (Qlib when it has `features/`).
        public var kind: SourceKind?
        /// Where the path came from: `flag`, `QLIB_DATA_PATH`, `FACTOR_DATA_PATH` or `stockdata`.
        public var origin: String
    }

    /// Resolves the data directory.
    ///
    /// 1. `explicitPath` (the CLI flag), opened as `kind` (nil: detect);
    /// 2. `QLIB_DATA_PATH` (as Qlib), unless `kind` is csv;
    /// 3. `FACTOR_DATA_PATH` (as CSV), unless `kind` is qlib;
    /// 4. `stockdata/` in `workingDirectory`.
    /// A path that is given but does not exist is an error (it is not skipped); so is finding none.
    public static func resolve(explicitPath: String?, kind: SourceKind? = nil,
                              environment: [String: String] = ProcessInfo.processInfo.environment,
                              workingDirectory: String = FileManager.default.currentDirectoryPath,
                              flagName: String = "--data") throws -> Location {
        func check(_ path: String, _ origin: String) throws -> String {
            let expanded = NSString(string: path).expandingTildeInPath
            let absolute = expanded.hasPrefix("/") ? expanded : FileSystem.join(workingDirectory, expanded)
            guard let status = FileSystem.status(absolute) else {
                throw DataError.directoryNotFound(origin == "flag" ? path : "\(path) (from \(origin))")
            }
            guard status.isDirectory else { throw DataError.notADirectory(path) }
            return absolute
        }
        if let explicitPath, !explicitPath.isEmpty {
            return Location(directory: try check(explicitPath, "flag"), kind: kind, origin: "flag")
        }
        if kind != .csv, let q = environment["QLIB_DATA_PATH"], !q.isEmpty {
            return Location(directory: try check(q, "QLIB_DATA_PATH"), kind: .qlib, origin: "QLIB_DATA_PATH")
        }
        if kind != .qlib, let f = environment["FACTOR_DATA_PATH"], !f.isEmpty {
            return Location(directory: try check(f, "FACTOR_DATA_PATH"), kind: .csv, origin: "FACTOR_DATA_PATH")
        }
        let local = FileSystem.join(workingDirectory, "stockdata")
        if FileSystem.isDirectory(local) {
            return Location(directory: local, kind: kind, origin: "stockdata")
        }
        throw DataError.noDataDirectory(
            tried: [flagName, "QLIB_DATA_PATH", "FACTOR_DATA_PATH", local],
            hint: "pass \(flagName) <directory>, set FACTOR_DATA_PATH (a CSV directory) or QLIB_DATA_PATH "
                + "(a Qlib directory), or put the CSV files in ./stockdata")
    }

    /// Locates and opens the data directory.
    public static func open(explicitPath: String?, kind: SourceKind? = nil, cacheDirectory: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            workingDirectory: String = FileManager.default.currentDirectoryPath,
                            flagName: String = "--data") throws -> any MarketDataSource {
        let location = try resolve(explicitPath: explicitPath, kind: kind, environment: environment,
                                  workingDirectory: workingDirectory, flagName: flagName)
        return try DataSources.open(directory: location.directory, kind: location.kind, cacheDirectory: cacheDirectory)
    }
}

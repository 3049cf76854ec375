import Foundation

/// Where the platform's store lives: an SQLite file (the embedded default) or a PostgreSQL URL, chosen by the
/// text alone so that `--db`, `FACTOR_PLATFORM_DB` and the tests all pick the backend the same way.
public enum StoreLocation {
    /// `--db` when given, else `FACTOR_PLATFORM_DB`, else `factorlab.db` in the working directory.
    public static func resolve(_ flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let value = environment["FACTOR_PLATFORM_DB"], !value.isEmpty { return value }
        return "factorlab.db"
    }

    public static func isPostgres(_ location: String) -> Bool { PostgresLocation.isPostgres(location) }

    /// Opens (creating and migrating when needed) the store at `location`.
    public static func open(_ location: String) throws -> any PlatformStore {
        isPostgres(location) ? try PostgresFactorStore(url: location) : try SQLiteFactorStore(path: location)
    }

    /// The location with any password hidden, for messages.
    public static func display(_ location: String) -> String {
        isPostgres(location) ? PostgresLocation.redacted(location) : location
    }
}

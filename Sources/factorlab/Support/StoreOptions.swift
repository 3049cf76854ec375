import ArgumentParser
import FactorPlatform
import FactorStore
import Foundation

/// `--db` and `--json`, shared by the registry and results commands.
struct StoreOptions: ParsableArguments {
    @Option(help: "The store: an SQLite file or postgres://user:password@host:port/database (default: $FACTOR_PLATFORM_DB, else factorlab.db in the working directory).")
    var db: String?

    @Flag(help: "Print JSON on stdout instead of a table.")
    var json = false

    func openStore() throws -> any PlatformStore {
        try StoreLocation.open(StoreLocation.resolve(db))
    }

    /// Who is acting: $FACTOR_USER, else $USER, else "cli".
    static var actor: String {
        let env = ProcessInfo.processInfo.environment
        return env["FACTOR_USER"] ?? env["USER"] ?? "cli"
    }

    func printJSON<T: Encodable>(_ value: T) throws { try Self.printJSON(value) }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "NaN")
        let data = try encoder.encode(value)
        // NaN as null, as every --json output does.
        print(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"NaN\"", with: "null")
            .replacingOccurrences(of: "\"inf\"", with: "null").replacingOccurrences(of: "\"-inf\"", with: "null"))
    }
}

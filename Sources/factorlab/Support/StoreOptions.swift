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

    /// The store, for reading: with FACTOR_REQUIRE_AUTH=1 or FACTOR_TOKEN set, only with a live token.
    func openStore() throws -> any PlatformStore {
        let store = try StoreLocation.open(StoreLocation.resolve(db))
        if CLIIdentity.requireAuth || ProcessInfo.processInfo.environment["FACTOR_TOKEN"] != nil { _ = try CLIIdentity.resolve(store) }
        return store
    }

    /// The store and who acts on it, for an action that needs one of `roles` (admin always may); a refusal is audited.
    func openStore(for roles: Set<Role>, to action: String, entity: String = "") throws -> (store: any PlatformStore, actor: CLIIdentity) {
        try Self.open(db, for: roles, to: action, entity: entity)
    }

    /// `openStore(for:to:entity:)` for commands with their own `--db`.
    static func open(_ db: String?, for roles: Set<Role>, to action: String, entity: String = "") throws -> (store: any PlatformStore, actor: CLIIdentity) {
        let store = try StoreLocation.open(StoreLocation.resolve(db))
        let actor = try CLIIdentity.resolve(store)
        try actor.require(roles, to: action, entity: entity, store: store)
        return (store, actor)
    }

    /// The store and who acts on it, for a change to factor `code` (its owner if a researcher, or a reviewer).
    func openStore(owning code: String, to action: String) throws -> (store: any PlatformStore, actor: CLIIdentity) {
        let store = try StoreLocation.open(StoreLocation.resolve(db))
        let actor = try CLIIdentity.resolve(store)
        try actor.requireOwner(of: code, to: action, store: store)
        return (store, actor)
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

import ArgumentParser
import FactorStore
import Foundation

struct MigrateStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-store",
        abstract: "Copy a whole store to another database (SQLite ↔ PostgreSQL): ids, versions, audit, results, jobs, tokens.",
        discussion: "The target must be empty (a new SQLite file or a new PostgreSQL database); it is created and migrated first. "
            + "The copy is one transaction: it lands whole or not at all. Prints the rows copied per table.")
    @Option(help: "The store to copy: an SQLite file or a postgres:// URL.") var from: String
    @Option(help: "The empty store to copy into: an SQLite file or a postgres:// URL.") var to: String
    @Flag(help: "Print JSON on stdout instead of a table.") var json = false

    struct Count: Encodable { var table: String; var rows: Int }

    func run() throws {
        guard from != to else { throw ValidationError("--from and --to name the same store") }
        guard StoreLocation.isPostgres(from) || FileManager.default.fileExists(atPath: from) else {
            throw ValidationError("--from \(from): no such SQLite file")
        }
        // A copy carries every table, tokens and users included: an admin's (where roles apply).
        _ = try StoreOptions.open(from, for: [], to: "copy the store")
        let source = try StoreTransfer.open(from)
        let target = try StoreTransfer.open(to)
        let started = Date()
        let counts = try StoreTransfer.copy(from: source, to: target)
        if json {
            try StoreOptions.printJSON(counts.map { Count(table: $0.table, rows: $0.rows) })
            return
        }
        print(Terminal.table(["table", "rows"], counts.map { [$0.table, String($0.rows)] }))
        Terminal.info("copied \(counts.map(\.rows).reduce(0, +)) rows from \(StoreLocation.display(from)) to \(StoreLocation.display(to)) "
                      + "in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}

struct ExportStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-store",
        abstract: "Write the whole store as JSON lines (one row a line, tables and rows in key order): the same bytes for the same content on SQLite and PostgreSQL.")
    @Option(help: "The store: an SQLite file or a postgres:// URL (default: $FACTOR_PLATFORM_DB, else factorlab.db).") var db: String?
    @Option(help: "Write to this file instead of stdout.") var out: String?

    func run() throws {
        let location = StoreLocation.resolve(db)
        guard StoreLocation.isPostgres(location) || FileManager.default.fileExists(atPath: location) else {
            throw ValidationError("no store at \(location)")
        }
        _ = try StoreOptions.open(location, for: [], to: "export the store")
        let text = try StoreTransfer.export(try StoreTransfer.open(location))
        if let out {
            do { try text.write(toFile: out, atomically: true, encoding: .utf8) } catch {
                throw ValidationError("cannot write \(out): \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

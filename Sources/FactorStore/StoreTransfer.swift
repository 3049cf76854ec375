import Foundation

/// A value of one cell, in the types both databases share (a PostgreSQL BOOLEAN travels as 0/1, as SQLite keeps it).
public enum StoreValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    /// Raw bytes (a stored series' arrays: SQLite BLOB, PostgreSQL BYTEA).
    case blob([UInt8])
}

/// One table's rows, column by column, as read from one store to be written to another.
public struct TableRows: Sendable {
    public var table: String
    public var columns: [String]
    public var rows: [[StoreValue]]
}

/// Raw access to the tables, for copying a whole store between databases (`migrate-store`) and exporting it.
public protocol TableAccess: Sendable {
    /// The columns of `table` in this database.
    func columns(of table: String) throws -> [String]
    func rowCount(of table: String) throws -> Int
    /// Every row of `table`, with these columns.
    func rows(of table: String, columns: [String]) throws -> [[StoreValue]]
    /// Writes every table in one transaction (all or nothing), then makes generated ids continue after the copied ones.
    func importTables(_ tables: [TableRows]) throws
}

/// Copying a whole store, ids, versions, audit and results intact, and its canonical export.
public enum StoreTransfer {
    /// Every table of the store, parents before children, with the columns a row is identified by.
    public static let tables: [(name: String, key: [String])] = [
        ("factors", ["code"]), ("factor_versions", ["code", "version"]), ("audit_log", ["id"]), ("runs", ["run_id"]),
        ("results", ["id"]), ("result_series", ["result_id"]), ("jobs", ["id"]), ("tasks", ["id"]),
        ("subscriptions", ["id"]), ("deliveries", ["id"]), ("alerts", ["id"]), ("api_tokens", ["id"]), ("alert_rules", ["id"]), ("events", ["id"]),
        ("users", ["name"]),
    ]

    /// Tables a new database is seeded with (the default alert rules): a copy replaces the target's seed with the
    /// source's rows, and the seed does not make the target count as occupied.
    public static let seededTables: Set<String> = ["alert_rules"]

    /// Opens a location for transfer (creating and migrating it when needed).
    public static func open(_ location: String) throws -> any PlatformStore & TableAccess {
        StoreLocation.isPostgres(location) ? try PostgresFactorStore(url: location) : try SQLiteFactorStore(path: location)
    }

    /// Copies every row of `source` into `target`, which must be empty; returns the rows copied per table.
    @discardableResult
    public static func copy(from source: any TableAccess, to target: any TableAccess) throws -> [(table: String, rows: Int)] {
        let occupied = try tables.filter { !seededTables.contains($0.name) }.compactMap { t -> String? in
            let n = try target.rowCount(of: t.name)
            return n > 0 ? "\(t.name) (\(n) rows)" : nil
        }
        guard occupied.isEmpty else {
            throw StoreError.targetNotEmpty(occupied)
        }
        var batches: [TableRows] = []
        for t in tables {
            let columns = try source.columns(of: t.name)
            let missing = Set(columns).subtracting(try target.columns(of: t.name))
            guard missing.isEmpty else {
                throw StoreError.targetMissingColumns(table: t.name, columns: missing.sorted())
            }
            batches.append(TableRows(table: t.name, columns: columns, rows: try source.rows(of: t.name, columns: columns)))
        }
        try target.importTables(batches)
        return batches.map { ($0.table, $0.rows.count) }
    }

    /// The whole store as JSON lines, one per row, tables in `tables` order and rows in key order, keys sorted: the
    /// same bytes for the same content in SQLite and PostgreSQL.
    public static func export(_ store: any TableAccess) throws -> String {
        var out = ""
        for t in tables {
            let columns = try store.columns(of: t.name).sorted()
            let keyIndex = t.key.compactMap { columns.firstIndex(of: $0) }
            let rows = try store.rows(of: t.name, columns: columns).sorted { a, b in
                for i in keyIndex where a[i] != b[i] { return precedes(a[i], b[i]) }
                return false
            }
            for row in rows {
                let cells = zip(columns, row).map { "\(JSON.encode($0.0)):\(literal($0.1))" }
                out += "{\"table\":\"\(t.name)\",\"row\":{\(cells.joined(separator: ","))}}\n"
            }
        }
        return out
    }

    private static func literal(_ value: StoreValue) -> String {
        switch value {
        case .null: return "null"
        case .integer(let n): return String(n)
        case .real(let x): return x.isFinite ? "\(x)" : JSON.encode("\(x)")
        case .text(let s): return JSON.encode(s)
        case .blob(let bytes): return JSON.encode("base64:" + Data(bytes).base64EncodedString())
        }
    }

    /// Key order independent of either database's collation: numbers by value, text by its UTF-8 bytes.
    private static func precedes(_ a: StoreValue, _ b: StoreValue) -> Bool {
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y
        case (.real(let x), .real(let y)): return x < y
        case (.text(let x), .text(let y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        case (.blob(let x), .blob(let y)): return x.lexicographicallyPrecedes(y)
        case (.null, _): return true
        default: return false
        }
    }
}

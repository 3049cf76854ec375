import Foundation
import GRDB

extension SQLiteFactorStore: TableAccess {
    public func columns(of table: String) throws -> [String] {
        try read { db in try db.columns(in: table).map(\.name) }
    }

    public func rowCount(of table: String) throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.quotedDatabaseIdentifier)") ?? 0 }
    }

    public func rows(of table: String, columns: [String]) throws -> [[StoreValue]] {
        try read { db in
            let list = columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
            return try Row.fetchAll(db, sql: "SELECT \(list) FROM \(table.quotedDatabaseIdentifier)").map { row in
                (0..<columns.count).map { i in
                    switch row[i] as DatabaseValue {
                    case let v where v.isNull: return .null
                    case let v:
                        switch v.storage {
                        case .int64(let n): return .integer(n)
                        case .double(let x): return .real(x)
                        case .string(let s): return .text(s)
                        case .blob(let data): return .blob([UInt8](data))
                        case .null: return .null
                        }
                    }
                }
            }
        }
    }

    public func importTables(_ tables: [TableRows]) throws {
        try write { db in
            for t in tables where StoreTransfer.seededTables.contains(t.table) {
                try db.execute(sql: "DELETE FROM \(t.table.quotedDatabaseIdentifier)")
            }
            for t in tables where !t.rows.isEmpty {
                let list = t.columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
                let statement = try db.makeStatement(sql: "INSERT INTO \(t.table.quotedDatabaseIdentifier) (\(list)) VALUES (\(Array(repeating: "?", count: t.columns.count).joined(separator: ", ")))")
                for row in t.rows {
                    try statement.execute(arguments: StatementArguments(row.map { value -> DatabaseValue in
                        switch value {
                        case .null: return .null
                        case .integer(let n): return n.databaseValue
                        case .real(let x): return x.databaseValue
                        case .text(let s): return s.databaseValue
                        case .blob(let bytes): return Data(bytes).databaseValue
                        }
                    }))
                }
            }
            // AUTOINCREMENT tables continue after the largest copied id on their own (sqlite_sequence follows inserts).
        }
    }
}

import Logging
import PostgresNIO

/// A value bound to a `$n` placeholder.
protocol PostgresBindable: Sendable {
    func bind(into bindings: inout PostgresBindings)
}

extension String: PostgresBindable { func bind(into b: inout PostgresBindings) { b.append(self) } }
extension Int: PostgresBindable { func bind(into b: inout PostgresBindings) { b.append(self) } }
extension Int64: PostgresBindable { func bind(into b: inout PostgresBindings) { b.append(self) } }
extension Bool: PostgresBindable { func bind(into b: inout PostgresBindings) { b.append(self) } }
extension Double: PostgresBindable {
    // NaN and infinities are stored as NULL, as in SQLite: the figure is undefined.
    func bind(into b: inout PostgresBindings) { if isFinite { b.append(self) } else { b.appendNull() } }
}
/// Raw bytes, as BYTEA.
extension Array: PostgresBindable where Element == UInt8 {
    func bind(into b: inout PostgresBindings) { b.append(ByteBuffer(bytes: self)) }
}
extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    func bind(into b: inout PostgresBindings) {
        switch self {
        case .some(let value): value.bind(into: &b)
        case .none: b.appendNull()
        }
    }
}

/// One row of a result, read by column name.
struct PostgresRecord: Sendable {
    let cells: [String: PostgresCell]

    init(_ row: PostgresRow) {
        var cells: [String: PostgresCell] = [:]
        for cell in row { cells[cell.columnName] = cell }
        self.cells = cells
    }

    func optional<T: PostgresDecodable>(_ column: String, _ type: T.Type = T.self) throws -> T? {
        guard let cell = cells[column] else { throw StoreError.database("the query returned no column \(column)") }
        return cell.bytes == nil ? nil : try cell.decode(T.self)
    }

    func get<T: PostgresDecodable>(_ column: String, _ type: T.Type = T.self) throws -> T {
        guard let value = try optional(column, T.self) else { throw StoreError.database("column \(column) is NULL") }
        return value
    }

    /// A DOUBLE PRECISION column where NULL means an undefined figure.
    func figure(_ column: String) throws -> Double { try optional(column, Double.self) ?? .nan }
}

/// A connection inside one transaction, with the statements written as SQL text and `$n` placeholders.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger

    static func query(_ sql: String, _ arguments: [any PostgresBindable]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments { argument.bind(into: &bindings) }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    /// Runs a statement and returns its rows (use `RETURNING` to learn what an UPDATE touched).
    @discardableResult
    func rows(_ sql: String, _ arguments: [any PostgresBindable] = []) async throws -> [PostgresRecord] {
        var out: [PostgresRecord] = []
        for try await row in try await connection.query(Self.query(sql, arguments), logger: logger) {
            out.append(PostgresRecord(row))
        }
        return out
    }

    func one(_ sql: String, _ arguments: [any PostgresBindable] = []) async throws -> PostgresRecord? {
        try await rows(sql, arguments).first
    }

    func execute(_ sql: String, _ arguments: [any PostgresBindable] = []) async throws {
        try await rows(sql, arguments)
    }

    /// A single integer (COUNT and the like), 0 when there is no row.
    func count(_ sql: String, _ arguments: [any PostgresBindable] = []) async throws -> Int {
        guard let row = try await rows(sql, arguments).first, let cell = row.cells.values.first else { return 0 }
        return try cell.decode(Int?.self) ?? 0
    }
}

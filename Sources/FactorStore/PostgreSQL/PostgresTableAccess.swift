import PostgresNIO

extension PostgresFactorStore: TableAccess {
    /// Tables whose `id` is generated: after a copy their identity continues after the largest copied id.
    private static let identityTables = ["audit_log", "results", "deliveries", "alerts", "events"]

    public func columns(of table: String) throws -> [String] {
        let derived = PostgresSchema.derivedColumns[table] ?? []
        return try columnTypes(of: table).map(\.name).filter { !derived.contains($0) }
    }

    private func columnTypes(of table: String) throws -> [(name: String, type: String)] {
        try read { s in
            try await s.rows("""
                SELECT column_name, data_type FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position
                """, [table]).map { (try $0.get("column_name", String.self), try $0.get("data_type", String.self)) }
        }
    }

    public func rowCount(of table: String) throws -> Int {
        try read { s in try await s.count("SELECT COUNT(*) FROM \(Self.quoted(table))") }
    }

    public func rows(of table: String, columns: [String]) throws -> [[StoreValue]] {
        try read { s in
            var out: [[StoreValue]] = []
            let query = PostgresQuery(unsafeSQL: "SELECT \(columns.map(Self.quoted).joined(separator: ", ")) FROM \(Self.quoted(table))")
            for try await row in try await s.connection.query(query, logger: s.logger) {
                out.append(try row.map { cell -> StoreValue in
                    guard cell.bytes != nil else { return .null }
                    switch cell.dataType {
                    case .int8, .int4, .int2: return .integer(try cell.decode(Int64.self))
                    case .float8, .float4: return .real(try cell.decode(Double.self))
                    case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
                    case .bytea: return .blob(Array(buffer: try cell.decode(ByteBuffer.self)))
                    default: return .text(try cell.decode(String.self))
                    }
                })
            }
            return out
        }
    }

    public func importTables(_ tables: [TableRows]) throws {
        var types: [String: [String: String]] = [:]
        for t in tables { types[t.table] = Dictionary(uniqueKeysWithValues: try columnTypes(of: t.table).map { ($0.name, $0.type) }) }
        let columnTypes = types
        try write { s in
            for t in tables where StoreTransfer.seededTables.contains(t.table) {
                try await s.execute("DELETE FROM \(Self.quoted(t.table))")
            }
            for t in tables where !t.rows.isEmpty {
                let booleans = t.columns.map { columnTypes[t.table]?[$0] == "boolean" }
                let perChunk = max(1, 30_000 / t.columns.count)  // the protocol's limit is 65,535 parameters a statement
                for start in stride(from: 0, to: t.rows.count, by: perChunk) {
                    let chunk = t.rows[start..<min(t.rows.count, start + perChunk)]
                    var arguments: [any PostgresBindable] = []
                    var tuples: [String] = []
                    for row in chunk {
                        let base = arguments.count
                        tuples.append("(" + (1...t.columns.count).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
                        for (value, isBoolean) in zip(row, booleans) {
                            switch value {
                            case .null: arguments.append(Optional<String>.none)
                            case .integer(let n): arguments.append(isBoolean ? (n != 0) as any PostgresBindable : n)
                            case .real(let x): arguments.append(x)
                            case .text(let text): arguments.append(text)
                            case .blob(let bytes): arguments.append(bytes)
                            }
                        }
                    }
                    try await s.execute("INSERT INTO \(Self.quoted(t.table)) (\(t.columns.map(Self.quoted).joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))",
                                        arguments)
                }
            }
            try await s.execute("UPDATE tasks t SET priority = j.priority, job_created_at = j.created_at FROM jobs j WHERE j.id = t.job_id")
            for table in Self.identityTables {
                try await s.execute("""
                    SELECT setval(pg_get_serial_sequence('\(table)', 'id'), m) FROM (SELECT MAX(id) AS m FROM \(table)) AS x WHERE m IS NOT NULL
                    """)
            }
        }
    }

    static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

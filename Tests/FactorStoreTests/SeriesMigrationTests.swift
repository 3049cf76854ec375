@testable import FactorStore
import FactorTestSupport
import Foundation
import GRDB
import Testing

/// Stores written before series became one row of JSON arrays per result (SQLite v5, PostgreSQL v4) keep every
/// figure: the migration turns their per-date rows, inserted out of date order, with undefined figures and missing
/// coverage, into arrays that read back as the same rows, in date order.
@Suite("Per-date series rows migrate to columns")
struct SeriesMigrationTests {
    static let key = ResultKey(runId: "run-1", factorCode: "MOM", factorVersion: 1, universe: "csi300", frequency: "day",
                               start: "2020-01-02", end: "2020-01-08", horizon: 1, settingsHash: "h")

    /// Per-date rows as the old schema held them: (date, n, ic, rank IC, long-short, groups JSON, turnovers, autocorr,
    /// members), figures that need all 17 digits, NULLs, and coverage missing on the first row.
    static let oldRows: [(String, Int, Double?, Double?, Double?, String, Double?, Double?, Double?, Int?)] = [
        ("2020-01-06", 298, 0.1 + 0.2, -0.012345678901234567, 1e-300, "[0.001,null,0.003]", 0.25, nil, 0.5, 300),
        ("2020-01-02", 1, nil, nil, nil, "[null,null,null]", nil, nil, nil, nil),
        ("2020-01-08", 297, -2.5e-17, 0.7, -0.004, "[-0.01,0.02,1.0000000000000002]", 1.0 / 3.0, 0.125, 0.99, 299),
        ("2020-01-03", 300, 0.05, 0.06, 0.0001, "[0.1,0.2,0.3]", 0.2, 0.3, 0.9, 300),
    ]

    static func check(_ series: [ResultSeriesRow]) {
        let expected = oldRows.sorted { $0.0 < $1.0 }
        #expect(series.map(\.date) == expected.map(\.0))
        for (row, old) in zip(series, expected) {
            func same(_ a: Double, _ b: Double?) -> Bool { b.map { $0 == a } ?? a.isNaN }
            #expect(row.n == old.1)
            #expect(same(row.ic, old.2) && same(row.rankIC, old.3) && same(row.longShort, old.4), "\(row.date)")
            #expect(same(row.turnoverTop, old.6) && same(row.turnoverBottom, old.7) && same(row.autocorr, old.8), "\(row.date)")
            let groups = try? JSONDecoder().decode([Double?].self, from: Data(old.5.utf8))
            #expect(row.groups.count == 3 && zip(row.groups, groups ?? []).allSatisfy { same($0, $1) }, "\(row.date)")
            #expect(row.members == old.9 && row.withFactor == old.9.map { $0 - 1 })
        }
    }

    static func insertStatements(placeholder: (Int) -> String, nullText: String = "NULL") -> [String] {
        func literal(_ v: Double?) -> String { v.map { String(format: "%.17g", $0) } ?? nullText }
        var sql = ["INSERT INTO runs (run_id, created_at, kind, parameters) VALUES ('run-1', 't', 'job', '{}')",
                   """
                   INSERT INTO results (id, run_id, factor_code, factor_version, universe, frequency, start, "end", horizon, settings_hash,
                                        created_at, delay, quantiles, n, group_means, rows, rows_no_ic, member_rows, with_factor,
                                        with_return, in_sample)
                   VALUES (7, 'run-1', 'MOM', 1, 'csi300', 'day', '2020-01-02', '2020-01-08', 1, 'h', 't', 1, 3, 4, '[]', 4, 1, 4, 4, 4, 4)
                   """]
        for r in oldRows {
            let coverage = r.9.map { "\($0), \($0 - 1), \($0 - 2)" } ?? "NULL, NULL, NULL"
            sql.append("""
                INSERT INTO result_series (result_id, date, n, ic, rank_ic, long_short, groups, turnover_top, turnover_bottom, autocorr,
                                           members, with_factor, with_return)
                VALUES (7, '\(r.0)', \(r.1), \(literal(r.2)), \(literal(r.3)), \(literal(r.4)), '\(r.5)', \(literal(r.6)),
                        \(literal(r.7)), \(literal(r.8)), \(coverage))
                """)
        }
        return sql
    }

    @Test func sqliteV4RowsReadBackAfterTheMigration() throws {
        let dir = NSTemporaryDirectory() + "factorlab-series-migration-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/old.db"
        // The schema as of v4, written with the v4 migrations themselves.
        let old = try DatabaseQueue(path: path)
        try old.write { db in
            try db.execute(sql: "CREATE TABLE factorlab_migrations (id TEXT PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL)")
            for (id, sql) in SQLiteSchema.migrations where id < "v5" {
                try db.execute(sql: sql)
                try db.execute(sql: "INSERT INTO factorlab_migrations (id, applied_at) VALUES (?, 't')", arguments: [id])
            }
            for statement in Self.insertStatements(placeholder: { _ in "?" }) { try db.execute(sql: statement) }
        }
        try old.close()
        let store = try SQLiteFactorStore(path: path)
        Self.check(try store.series(key: Self.key))
        // Saving again replaces the row (one per result), and an empty series removes it.
        let rows = try store.series(key: Self.key)
        try store.saveResults(run: RunRecord(runId: "run-1", createdAt: "t", kind: "job", parameters: "{}"),
                              results: [(ResultRecord(key: Self.key, createdAt: "t", delay: 1, quantiles: 3), Array(rows.prefix(2)))],
                              actor: "test")
        #expect(try store.series(key: Self.key).map(\.date) == rows.prefix(2).map(\.date))
    }

    @Test(.disabled(if: !TestPostgres.available, Comment(rawValue: TestPostgres.skipNote)))
    func postgresV3RowsReadBackAfterTheMigration() async throws {
        try await blocking {
            let (url, drop) = try TestPostgres.scratchDatabase("seriesmigration")
            defer { drop() }
            var script = ["CREATE TABLE factorlab_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL);"]
            for (id, sql) in PostgresSchema.migrations where id < "v4" {
                script.append(sql)
                script.append("INSERT INTO factorlab_migrations (id, applied_at) VALUES ('\(id)', 't');")
            }
            script += Self.insertStatements(placeholder: { "$\($0)" }).map { $0 + ";" }
            let psql = Process()
            psql.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            psql.arguments = ["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", script.joined(separator: "\n")]
            try psql.run()
            psql.waitUntilExit()
            #expect(psql.terminationStatus == 0)
            let store = try PostgresFactorStore(url: url)
            Self.check(try store.series(key: Self.key))
        }
    }
}

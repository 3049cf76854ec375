import Foundation
import GRDB

/// The SQLite schema, as migrations (never edited once shipped: a change is a new migration).
///
/// Migrations run in one IMMEDIATE transaction that also reads which are applied, so processes that open a new
/// database at the same time apply each migration exactly once.
enum SQLiteSchema {
    static func migrate(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS factorlab_migrations (id TEXT PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL)")
                let applied = Set(try String.fetchAll(db, sql: "SELECT id FROM factorlab_migrations"))
                let unknown = applied.subtracting(migrations.map(\.id) + codeMigrations.map(\.id))
                if !unknown.isEmpty { throw StoreError.schemaTooNew(unknown: unknown.sorted()) }
                for (id, sql) in migrations where !applied.contains(id) {
                    try db.execute(sql: sql)
                    try db.execute(sql: "INSERT INTO factorlab_migrations (id, applied_at) VALUES (?, ?)", arguments: [id, Clock.now()])
                }
                for (id, migrate) in codeMigrations where !applied.contains(id) {
                    try migrate(db)
                    try db.execute(sql: "INSERT INTO factorlab_migrations (id, applied_at) VALUES (?, ?)", arguments: [id, Clock.now()])
                }
                return .commit
            }
        }
    }

    static let migrations: [(id: String, sql: String)] = [
        ("v1-registry-results-jobs", """
                CREATE TABLE factors (
                    code TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    category TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    tags TEXT NOT NULL,
                    description TEXT NOT NULL,
                    status TEXT NOT NULL,
                    latest_version INTEGER NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL);
                CREATE TABLE factor_versions (
                    code TEXT NOT NULL REFERENCES factors(code),
                    version INTEGER NOT NULL,
                    expression TEXT NOT NULL,
                    canonical TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    note TEXT NOT NULL,
                    author TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    nan_ratio REAL,
                    inf_ratio REAL,
                    sample_cells INTEGER NOT NULL,
                    PRIMARY KEY (code, version));
                CREATE INDEX factor_versions_hash ON factor_versions(hash);
                CREATE TABLE audit_log (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    entity TEXT NOT NULL,
                    before TEXT,
                    after TEXT);
                CREATE INDEX audit_log_entity ON audit_log(entity);
                CREATE TABLE runs (
                    run_id TEXT PRIMARY KEY NOT NULL,
                    created_at TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    parameters TEXT NOT NULL);
                CREATE TABLE results (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id TEXT NOT NULL REFERENCES runs(run_id),
                    factor_code TEXT NOT NULL,
                    factor_version INTEGER NOT NULL,
                    universe TEXT NOT NULL,
                    frequency TEXT NOT NULL,
                    start TEXT NOT NULL,
                    "end" TEXT NOT NULL,
                    horizon INTEGER NOT NULL,
                    settings_hash TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    delay INTEGER NOT NULL,
                    quantiles INTEGER NOT NULL,
                    n INTEGER NOT NULL,
                    ic_mean REAL, ic_std REAL, icir REAL, ic_t REAL, ic_nw_t REAL, ic_positive REAL,
                    rank_ic_mean REAL, rank_ic_std REAL, rank_icir REAL, rank_ic_t REAL, rank_ic_nw_t REAL, rank_ic_positive REAL,
                    ls_mean REAL, ls_std REAL, ls_ann_return REAL, ls_ann_vol REAL, ls_sharpe REAL, ls_cum_return REAL,
                    ls_max_drawdown REAL, turnover_top REAL, turnover_bottom REAL, autocorr REAL,
                    group_means TEXT NOT NULL,
                    rows INTEGER NOT NULL, rows_no_ic INTEGER NOT NULL,
                    member_rows INTEGER NOT NULL, with_factor INTEGER NOT NULL, with_return INTEGER NOT NULL, in_sample INTEGER NOT NULL,
                    error TEXT,
                    UNIQUE (run_id, factor_code, factor_version, universe, frequency, start, "end", horizon, settings_hash));
                CREATE INDEX results_factor ON results(factor_code, universe, frequency, horizon);
                CREATE TABLE result_series (
                    result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
                    date TEXT NOT NULL,
                    n INTEGER NOT NULL,
                    ic REAL, rank_ic REAL, long_short REAL,
                    groups TEXT NOT NULL,
                    turnover_top REAL, turnover_bottom REAL, autocorr REAL,
                    PRIMARY KEY (result_id, date));
                CREATE TABLE jobs (
                    id TEXT PRIMARY KEY NOT NULL,
                    run_id TEXT NOT NULL UNIQUE,
                    idempotency_key TEXT UNIQUE,
                    status TEXT NOT NULL,
                    priority INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL DEFAULT 3,
                    parameters TEXT NOT NULL,
                    summary_path TEXT,
                    error TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL);
                CREATE TABLE tasks (
                    id TEXT PRIMARY KEY NOT NULL,
                    job_id TEXT NOT NULL REFERENCES jobs(id),
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    lease_owner TEXT,
                    lease_expires_at REAL,
                    not_before REAL,
                    payload TEXT NOT NULL,
                    error TEXT,
                    started_at TEXT,
                    finished_at TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL);
                CREATE INDEX tasks_queue ON tasks(status, not_before);
                CREATE TABLE subscriptions (
                    id TEXT PRIMARY KEY NOT NULL,
                    url TEXT NOT NULL,
                    events TEXT NOT NULL,
                    secret TEXT NOT NULL,
                    active INTEGER NOT NULL DEFAULT 1,
                    created_at TEXT NOT NULL);
                CREATE TABLE deliveries (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    subscription_id TEXT NOT NULL REFERENCES subscriptions(id),
                    event TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL,
                    last_error TEXT,
                    created_at TEXT NOT NULL,
                    delivered_at TEXT);
                CREATE TABLE alerts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    rule TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    message TEXT NOT NULL,
                    job_id TEXT,
                    created_at TEXT NOT NULL);
                CREATE TABLE api_tokens (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    role TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL,
                    revoked_at TEXT);
                """),
        // The console's report page shows the same charts as the HTML report: IC decay per result and coverage per date.
        ("v2-decay-and-daily-coverage", """
                ALTER TABLE results ADD COLUMN decay TEXT NOT NULL DEFAULT '[]';
                ALTER TABLE result_series ADD COLUMN members INTEGER;
                ALTER TABLE result_series ADD COLUMN with_factor INTEGER;
                ALTER TABLE result_series ADD COLUMN with_return INTEGER;
                """),
        // The coverage ledger says why rows have no IC; results from jobs keep that too.
        ("v3-no-ic-reasons", """
                ALTER TABLE results ADD COLUMN no_ic_reasons TEXT NOT NULL DEFAULT '{}';
                """),
        // The job summary is a record in the database (many hosts read it), not a file on the last worker's disk;
        // summary_path stays for databases written before, unused.
        ("v4-job-summary-in-database", """
                ALTER TABLE jobs ADD COLUMN summary_csv TEXT;
                ALTER TABLE jobs ADD COLUMN summary_top TEXT;
                ALTER TABLE jobs ADD COLUMN summary_at TEXT;
                """),
        // IC by industry of each result (a JSON array; empty when the evaluation had no industries).
        ("v6-industry-ic", "ALTER TABLE results ADD COLUMN industry_ic TEXT NOT NULL DEFAULT '[]'"),
        // A version is an expression or Python source (docs/python-factors.md); every earlier one is an expression.
        ("v7-factor-kind", "ALTER TABLE factor_versions ADD COLUMN kind TEXT NOT NULL DEFAULT 'expression'"),
        // A delivery whose retries all failed is "dead" (listed and redelivered by that name), no longer "failed".
        ("v8-dead-deliveries", "UPDATE deliveries SET status = 'dead' WHERE status = 'failed'"),
        // Unsubscribing keeps the subscription's row (its deliveries refer to it) and marks it removed.
        ("v9-subscription-removal", "ALTER TABLE subscriptions ADD COLUMN removed_at TEXT"),
        // Channels beside webhooks (email, DingTalk, Feishu, WeCom, Slack) and a filter per subscription.
        ("v10-subscription-channels", """
                ALTER TABLE subscriptions ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook';
                ALTER TABLE subscriptions ADD COLUMN filter TEXT NOT NULL DEFAULT '{}';
                """),
        // Alert rules are data (seeded with the defaults by the code migration below); an alert records what it is
        // about, the figures that triggered it, and who acknowledged it.
        ("v11-alert-rules", """
                ALTER TABLE alerts ADD COLUMN factor_code TEXT;
                ALTER TABLE alerts ADD COLUMN universe TEXT;
                ALTER TABLE alerts ADD COLUMN figures TEXT NOT NULL DEFAULT '{}';
                ALTER TABLE alerts ADD COLUMN acknowledged_at TEXT;
                ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT;
                CREATE TABLE alert_rules (
                    id TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    threshold REAL NOT NULL,
                    lookback INTEGER NOT NULL,
                    severity TEXT NOT NULL,
                    scope TEXT NOT NULL DEFAULT '{}',
                    muted INTEGER NOT NULL DEFAULT 0,
                    updated_at TEXT NOT NULL,
                    updated_by TEXT NOT NULL);
                """),
        // The event log the live stream serves (GET /events with Last-Event-ID).
        ("v12-event-log", """
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    job_id TEXT,
                    body TEXT NOT NULL,
                    created_at TEXT NOT NULL);
                CREATE INDEX events_job ON events(job_id, id);
                CREATE INDEX IF NOT EXISTS tasks_job ON tasks(job_id);
                """),
        // Access: tokens can expire; the users table grants the CLI its roles on a shared database.
        ("v13-access", """
                ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
                CREATE TABLE users (
                    name TEXT PRIMARY KEY NOT NULL,
                    role TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    updated_by TEXT NOT NULL);
                """),
    ]

    /// Migrations that move data in ways SQL cannot, after every SQL one (and in this order).
    static let codeMigrations: [(id: String, migrate: @Sendable (Database) throws -> Void)] = [
        // A result's series becomes one row of raw arrays (`SeriesColumns`) instead of one row per date: a task writes
        // a few dozen rows instead of tens of thousands.
        ("v5-series-as-columns", seriesAsColumns),
        ("v11-default-alert-rules", { db in
            for rule in AlertRuleRecord.defaults {
                try db.execute(sql: """
                    INSERT INTO alert_rules (id, kind, threshold, lookback, severity, scope, muted, updated_at, updated_by)
                    VALUES (?, ?, ?, ?, ?, '{}', 0, ?, 'migration')
                    """, arguments: [rule.id, rule.kind.rawValue, rule.threshold, rule.lookback, rule.severity, Clock.now()])
            }
        }),
    ]

    static func seriesAsColumns(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE result_series_columns (
                result_id INTEGER PRIMARY KEY NOT NULL REFERENCES results(id) ON DELETE CASCADE,
                dates TEXT NOT NULL, n BLOB NOT NULL, ic BLOB NOT NULL, rank_ic BLOB NOT NULL, long_short BLOB NOT NULL,
                groups BLOB NOT NULL, turnover_top BLOB NOT NULL, turnover_bottom BLOB NOT NULL, autocorr BLOB NOT NULL,
                members BLOB NOT NULL, with_factor BLOB NOT NULL, with_return BLOB NOT NULL)
            """)
        let insert = try db.makeStatement(sql: """
            INSERT INTO result_series_columns (result_id, \(SeriesColumns.names.joined(separator: ", ")))
            VALUES (?\(String(repeating: ", ?", count: SeriesColumns.names.count)))
            """)
        var result: Int64?
        var rows: [ResultSeriesRow] = []
        func flush() throws {
            guard let result, !rows.isEmpty else { return }
            let columns = SeriesColumns(rows)
            try insert.execute(arguments: StatementArguments([result.databaseValue, columns.dates.databaseValue]
                                                             + columns.arrays.map { Data($0).databaseValue }))
        }
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM result_series ORDER BY result_id, date")
        while let row = try cursor.next() {
            let id: Int64 = row["result_id"]
            if id != result {
                try flush()
                result = id
                rows = []
            }
            func figure(_ column: String) -> Double { (row[column] as Double?) ?? .nan }
            rows.append(ResultSeriesRow(date: row["date"], n: row["n"], ic: figure("ic"), rankIC: figure("rank_ic"),
                                        longShort: figure("long_short"),
                                        groups: (JSON.decode([Double?].self, row["groups"]) ?? []).map { $0 ?? .nan },
                                        turnoverTop: figure("turnover_top"), turnoverBottom: figure("turnover_bottom"),
                                        autocorr: figure("autocorr"), members: row["members"], withFactor: row["with_factor"],
                                        withReturn: row["with_return"]))
        }
        try flush()
        try db.execute(sql: "DROP TABLE result_series")
        try db.execute(sql: "ALTER TABLE result_series_columns RENAME TO result_series")
    }
}

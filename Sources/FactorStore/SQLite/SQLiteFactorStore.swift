import Foundation
import GRDB

/// The SQLite implementation of `FactorStore` (GRDB, WAL mode). Several processes may share one file: writes
/// take an immediate transaction and wait (busy timeout) instead of failing with "database is locked".
public final class SQLiteFactorStore: FactorStore, @unchecked Sendable {
    // GRDB's DatabasePool is thread-safe; this class holds nothing else mutable.
    private let pool: DatabasePool
    public let path: String
    public var locationDescription: String { path }

    /// Opens (creating and migrating when needed) the database at `path`.
    public init(path: String, busyTimeout: TimeInterval = 30) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
                throw StoreError.database("the folder of \(path) does not exist")
            }
            pool = try Self.openWithRetry(path: path, configuration: configuration, patience: busyTimeout)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database("cannot open \(path): \(error)")
        }
    }

    /// Opening switches the file to WAL mode and migrates it; SQLite does not wait on its busy handler for the
    /// journal-mode switch, so when several processes open a new database at once the losers retry with backoff.
    private static func openWithRetry(path: String, configuration: Configuration, patience: TimeInterval) throws -> DatabasePool {
        let deadline = Date().addingTimeInterval(patience)
        var delay = 0.005
        while true {
            do {
                let pool = try DatabasePool(path: path, configuration: configuration)
                try SQLiteSchema.migrate(pool)
                return pool
            } catch let error as StoreError {
                throw error
            } catch let error as DatabaseError where (error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED) && Date() < deadline {
                Thread.sleep(forTimeInterval: delay)
                delay = min(0.2, delay * 2)
            }
        }
    }

    // MARK: Transactions

    /// Runs `body` in one IMMEDIATE transaction (the write lock is taken up front, so concurrent writers queue
    /// on the busy timeout rather than fail on upgrade); database errors become `StoreError.database`.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw StoreError.database("transaction produced no result") }
                return result
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database("\(error)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database("\(error)")
        }
    }

    func appendAuditRow(_ db: Database, actor: String, action: String, entity: String, before: String?, after: String?) throws {
        try db.execute(sql: "INSERT INTO audit_log (at, actor, action, entity, before, after) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [Clock.now(), actor, action, entity, before, after])
    }

    // MARK: Factors

    public func insertFactors(_ entries: [(factor: FactorRecord, version: FactorVersionRecord)], actor: String, action: String) throws {
        try write { db in
            for (factor, version) in entries {
                if try Int.fetchOne(db, sql: "SELECT 1 FROM factors WHERE code = ?", arguments: [factor.code]) != nil {
                    throw StoreError.duplicateCode(factor.code)
                }
                try insertFactorRow(db, factor)
                try insertVersionRow(db, version)
                try appendAuditRow(db, actor: actor, action: action, entity: factor.code, before: nil,
                                after: JSON.encode(FactorSnapshot(factor: factor, version: version)))
            }
        }
    }

    public func appendVersion(_ version: FactorVersionRecord, status: FactorStatus?, actor: String, action: String) throws -> FactorRecord {
        try write { db in
            guard var factor = try fetchFactor(db, version.code) else { throw StoreError.unknownFactor(version.code) }
            guard version.version == factor.latestVersion + 1 else {
                throw StoreError.versionConflict(code: factor.code, expected: version.version, got: factor.latestVersion + 1)
            }
            let previous = try fetchVersions(db, factor.code).last
            let before = JSON.encode(FactorSnapshot(factor: factor, version: previous))
            try insertVersionRow(db, version)
            factor.latestVersion = version.version
            if let status { factor.status = status }
            factor.updatedAt = version.createdAt
            try db.execute(sql: "UPDATE factors SET latest_version = ?, status = ?, updated_at = ? WHERE code = ?",
                           arguments: [factor.latestVersion, factor.status.rawValue, factor.updatedAt, factor.code])
            try appendAuditRow(db, actor: actor, action: action, entity: factor.code, before: before,
                            after: JSON.encode(FactorSnapshot(factor: factor, version: version)))
            return factor
        }
    }

    public func updateStatus(code: String, from: Set<FactorStatus>, to status: FactorStatus, actor: String, action: String,
                             guarding: StatusGuard) throws -> FactorRecord {
        try write { db in
            guard var factor = try fetchFactor(db, code) else { throw StoreError.unknownFactor(code) }
            guard from.contains(factor.status) else { throw StoreError.invalidTransition(code: code, from: factor.status, to: status) }
            if guarding != .none, let refusal = guarding.refusal(factor, author: try fetchVersions(db, code).last?.author, actor: actor) {
                throw refusal
            }
            let before = JSON.encode(factor)
            factor.status = status
            factor.updatedAt = Clock.now()
            try db.execute(sql: "UPDATE factors SET status = ?, updated_at = ? WHERE code = ?",
                           arguments: [status.rawValue, factor.updatedAt, code])
            try appendAuditRow(db, actor: actor, action: action, entity: code, before: before, after: JSON.encode(factor))
            if status == .approved {
                try enqueueEvent(db, .factorApproved, payload: "{\"code\":\(JSON.encode(code)),\"version\":\(factor.latestVersion),\"by\":\(JSON.encode(actor))}",
                                 scope: EventScope(factors: [code], categories: [factor.category]))
            }
            return factor
        }
    }

    public func factor(code: String) throws -> FactorRecord? {
        try read { db in try fetchFactor(db, code) }
    }

    public func factors(matching filter: FactorFilter) throws -> [FactorRecord] {
        try read { db in
            var clauses: [String] = []
            var arguments: StatementArguments = []
            if let c = filter.category { clauses.append("category = ?"); arguments += [c] }
            if let s = filter.status { clauses.append("status = ?"); arguments += [s.rawValue] }
            if let o = filter.owner { clauses.append("owner = ?"); arguments += [o] }
            let whereClause = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM factors\(whereClause) ORDER BY code", arguments: arguments)
            let factors = rows.map(Self.factorFrom)
            guard let tag = filter.tag else { return factors }
            return factors.filter { $0.tags.contains(tag) }
        }
    }

    public func versions(code: String) throws -> [FactorVersionRecord] {
        try read { db in try fetchVersions(db, code) }
    }

    public func factorsWithLatestHash(_ hash: String) throws -> [FactorRecord] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT f.* FROM factors f JOIN factor_versions v ON v.code = f.code AND v.version = f.latest_version
                WHERE v.hash = ? ORDER BY f.code
                """, arguments: [hash]).map(Self.factorFrom)
        }
    }

    public func audit(entity: String?, limit: Int) throws -> [AuditRecord] {
        try read { db in
            let rows = try entity.map {
                try Row.fetchAll(db, sql: "SELECT * FROM audit_log WHERE entity = ? ORDER BY id DESC LIMIT ?", arguments: [$0, limit])
            } ?? Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", arguments: [limit])
            return rows.map { row in
                AuditRecord(id: row["id"], at: row["at"], actor: row["actor"], action: row["action"], entity: row["entity"],
                            before: row["before"], after: row["after"])
            }
        }
    }

    private func fetchFactor(_ db: Database, _ code: String) throws -> FactorRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM factors WHERE code = ?", arguments: [code]).map(Self.factorFrom)
    }

    private func fetchVersions(_ db: Database, _ code: String) throws -> [FactorVersionRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM factor_versions WHERE code = ? ORDER BY version", arguments: [code]).map { row in
            FactorVersionRecord(code: row["code"], version: row["version"], expression: row["expression"],
                                kind: FactorKind(rawValue: row["kind"]) ?? .expression, canonical: row["canonical"],
                                hash: row["hash"], note: row["note"], author: row["author"], createdAt: row["created_at"],
                                nanRatio: (row["nan_ratio"] as Double?) ?? .nan, infRatio: (row["inf_ratio"] as Double?) ?? .nan,
                                sampleCells: row["sample_cells"])
        }
    }

    private func insertFactorRow(_ db: Database, _ f: FactorRecord) throws {
        try db.execute(sql: """
            INSERT INTO factors (code, name, category, owner, tags, description, status, latest_version, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [f.code, f.name, f.category, f.owner, JSON.encode(f.tags), f.description, f.status.rawValue,
                             f.latestVersion, f.createdAt, f.updatedAt])
    }

    private func insertVersionRow(_ db: Database, _ v: FactorVersionRecord) throws {
        try db.execute(sql: """
            INSERT INTO factor_versions (code, version, expression, canonical, hash, note, author, created_at, nan_ratio, inf_ratio, sample_cells, kind)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [v.code, v.version, v.expression, v.canonical, v.hash, v.note, v.author, v.createdAt,
                             v.nanRatio.isFinite ? v.nanRatio : nil, v.infRatio.isFinite ? v.infRatio : nil, v.sampleCells, v.kind.rawValue])
    }

    private static func factorFrom(_ row: Row) -> FactorRecord {
        FactorRecord(code: row["code"], name: row["name"], category: row["category"], owner: row["owner"],
                     tags: JSON.decode([String].self, row["tags"]) ?? [], description: row["description"],
                     status: FactorStatus(rawValue: row["status"]) ?? .draft, latestVersion: row["latest_version"],
                     createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    // MARK: Results

    public func saveResults(run: RunRecord, results: [(result: ResultRecord, series: [ResultSeriesRow])], actor: String) throws {
        try write { db in
            try saveResultRows(db, run: run, results: results)
            try appendAuditRow(db, actor: actor, action: "save-results", entity: run.runId, before: nil,
                               after: "{\"results\":\(results.count),\"factors\":\(Set(results.map(\.result.key.factorCode)).count)}")
        }
    }

    /// Upserts a run's results and replaces their series (inside the caller's transaction).
    func saveResultRows(_ db: Database, run: RunRecord, results: [(result: ResultRecord, series: [ResultSeriesRow])]) throws {
            try db.execute(sql: "INSERT INTO runs (run_id, created_at, kind, parameters) VALUES (?, ?, ?, ?) ON CONFLICT(run_id) DO NOTHING",
                           arguments: [run.runId, run.createdAt, run.kind, run.parameters])
            for (r, series) in results {
                let k = r.key
                var columns = ["run_id", "factor_code", "factor_version", "universe", "frequency", "start", "\"end\"", "horizon",
                               "settings_hash", "created_at", "delay", "quantiles", "n"]
                var values: [(any DatabaseValueConvertible)?] = [k.runId, k.factorCode, k.factorVersion, k.universe, k.frequency,
                                                                   k.start, k.end, k.horizon, k.settingsHash, r.createdAt, r.delay,
                                                                   r.quantiles, r.n]
                for (name, value) in r.figures { columns.append(name); values.append(value.isFinite ? value : nil) }
                columns += ["group_means", "decay", "industry_ic", "rows", "rows_no_ic", "no_ic_reasons", "member_rows", "with_factor", "with_return", "in_sample", "error"]
                values += [JSON.encode(r.groupMeans.map { $0.isFinite ? $0 : nil }), JSON.encode(r.decay.map { $0.isFinite ? $0 : nil }), JSON.encode(r.industryIC), r.rows, r.rowsNoIC, JSON.encode(r.noICReasons), r.memberRows,
                           r.withFactor, r.withReturn, r.inSample, r.error]
                let updates = columns.dropFirst(9).map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
                try db.execute(sql: """
                    INSERT INTO results (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))
                    ON CONFLICT (run_id, factor_code, factor_version, universe, frequency, start, "end", horizon, settings_hash)
                    DO UPDATE SET \(updates)
                    """, arguments: StatementArguments(values))
                guard let id = try Int64.fetchOne(db, sql: """
                    SELECT id FROM results WHERE run_id = ? AND factor_code = ? AND factor_version = ? AND universe = ?
                    AND frequency = ? AND start = ? AND "end" = ? AND horizon = ? AND settings_hash = ?
                    """, arguments: [k.runId, k.factorCode, k.factorVersion, k.universe, k.frequency, k.start, k.end, k.horizon, k.settingsHash])
                else { throw StoreError.database("result row vanished during save") }
                guard !series.isEmpty else {
                    try db.execute(sql: "DELETE FROM result_series WHERE result_id = ?", arguments: [id])
                    continue
                }
                let stored = SeriesColumns(series)
                try db.execute(sql: """
                    INSERT INTO result_series (result_id, \(SeriesColumns.names.joined(separator: ", ")))
                    VALUES (?\(String(repeating: ", ?", count: SeriesColumns.names.count)))
                    ON CONFLICT (result_id) DO UPDATE SET \(SeriesColumns.names.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
                    """, arguments: StatementArguments([id.databaseValue, stored.dates.databaseValue] + stored.arrays.map { Data($0).databaseValue }))
            }
    }

    public func results(matching filter: ResultFilter) throws -> [ResultRecord] {
        try read { db in
            var (clause, arguments) = Self.whereClause(filter)
            if let k = filter.after {
                clause += (clause.isEmpty ? " WHERE " : " AND ") + """
                    id > (SELECT id FROM results WHERE run_id = ? AND factor_code = ? AND factor_version = ? AND universe = ? AND frequency = ?
                          AND start = ? AND "end" = ? AND horizon = ? AND settings_hash = ?)
                    """
                arguments += [k.runId, k.factorCode, k.factorVersion, k.universe, k.frequency, k.start, k.end, k.horizon, k.settingsHash]
            }
            if let limit = filter.limit { clause += " ORDER BY id LIMIT ?"; arguments += [limit] } else { clause += " ORDER BY id" }
            return try Row.fetchAll(db, sql: "SELECT * FROM results\(clause)", arguments: arguments).map(Self.resultFrom)
        }
    }

    public func series(key: ResultKey) throws -> [ResultSeriesRow] {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT s.* FROM result_series s JOIN results r ON r.id = s.result_id
                WHERE r.run_id = ? AND r.factor_code = ? AND r.factor_version = ? AND r.universe = ? AND r.frequency = ?
                AND r.start = ? AND r."end" = ? AND r.horizon = ? AND r.settings_hash = ?
                """, arguments: [key.runId, key.factorCode, key.factorVersion, key.universe, key.frequency, key.start, key.end,
                                 key.horizon, key.settingsHash]) else { return [] }
            return try SeriesColumns(dates: row["dates"], arrays: SeriesColumns.arrayNames.map { [UInt8]((row[$0] as Data?) ?? Data()) }).rows()
        }
    }

    public func leaderboard(_ query: LeaderboardQuery) throws -> [ResultRecord] {
        guard ResultRecord.metricNames.contains(query.metric) else {
            throw StoreError.unknownMetric(query.metric, available: ResultRecord.metricNames)
        }
        return try read { db in
            var (clause, arguments) = Self.whereClause(ResultFilter(universe: query.universe, frequency: query.frequency, horizon: query.horizon))
            clause += clause.isEmpty ? " WHERE error IS NULL" : " AND error IS NULL"
            if let start = query.start { clause += " AND start = ?"; arguments += [start] }
            if let end = query.end { clause += " AND \"end\" = ?"; arguments += [end] }
            if let hashes = query.settingsHashes {
                clause += hashes.isEmpty ? " AND 0" : " AND settings_hash IN (\(Array(repeating: "?", count: hashes.count).joined(separator: ", ")))"
                for h in hashes { arguments += [h] }
            }
            // Each (factor, universe, frequency, horizon, settings)'s latest result, best first; undefined values last.
            // Raw and neutralized results of a factor are ranked side by side, not one replacing the other.
            let sql = """
                SELECT * FROM results WHERE id IN (
                    SELECT MAX(id) FROM results\(clause) GROUP BY factor_code, universe, frequency, horizon, settings_hash)
                ORDER BY \(query.metric) IS NULL, \(query.metric) DESC, id LIMIT ?
                """
            arguments += [max(0, query.top)]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.resultFrom)
        }
    }

    public func runs() throws -> [RunRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY created_at").map {
                RunRecord(runId: $0["run_id"], createdAt: $0["created_at"], kind: $0["kind"], parameters: $0["parameters"])
            }
        }
    }

    private static func whereClause(_ filter: ResultFilter) -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let v = filter.factorCode { clauses.append("factor_code = ?"); arguments += [v] }
        if let v = filter.runId { clauses.append("run_id = ?"); arguments += [v] }
        if let v = filter.universe { clauses.append("universe = ?"); arguments += [v] }
        if let v = filter.frequency { clauses.append("frequency = ?"); arguments += [v] }
        if let v = filter.horizon { clauses.append("horizon = ?"); arguments += [v] }
        if let v = filter.from { clauses.append("\"end\" >= ?"); arguments += [v] }
        if let v = filter.to { clauses.append("start <= ?"); arguments += [v] }
        return (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    private static func resultFrom(_ row: Row) -> ResultRecord {
        let key = ResultKey(runId: row["run_id"], factorCode: row["factor_code"], factorVersion: row["factor_version"],
                            universe: row["universe"], frequency: row["frequency"], start: row["start"], end: row["end"],
                            horizon: row["horizon"], settingsHash: row["settings_hash"])
        var r = ResultRecord(key: key, createdAt: row["created_at"], delay: row["delay"], quantiles: row["quantiles"], error: row["error"])
        r.n = row["n"]
        r.icMean = double(row, "ic_mean"); r.icStd = double(row, "ic_std"); r.icir = double(row, "icir"); r.icT = double(row, "ic_t")
        r.icNwT = double(row, "ic_nw_t"); r.icPositive = double(row, "ic_positive")
        r.rankICMean = double(row, "rank_ic_mean"); r.rankICStd = double(row, "rank_ic_std"); r.rankICIR = double(row, "rank_icir")
        r.rankICT = double(row, "rank_ic_t"); r.rankICNwT = double(row, "rank_ic_nw_t"); r.rankICPositive = double(row, "rank_ic_positive")
        r.lsMean = double(row, "ls_mean"); r.lsStd = double(row, "ls_std"); r.lsAnnReturn = double(row, "ls_ann_return")
        r.lsAnnVol = double(row, "ls_ann_vol"); r.lsSharpe = double(row, "ls_sharpe"); r.lsCumReturn = double(row, "ls_cum_return")
        r.lsMaxDrawdown = double(row, "ls_max_drawdown"); r.turnoverTop = double(row, "turnover_top")
        r.turnoverBottom = double(row, "turnover_bottom"); r.autocorr = double(row, "autocorr")
        r.groupMeans = (JSON.decode([Double?].self, row["group_means"]) ?? []).map { $0 ?? .nan }
        r.decay = (JSON.decode([Double?].self, row["decay"]) ?? []).map { $0 ?? .nan }
        r.industryIC = JSON.decode([IndustryICRecord].self, row["industry_ic"]) ?? []
        r.rows = row["rows"]; r.rowsNoIC = row["rows_no_ic"]; r.memberRows = row["member_rows"]
        r.noICReasons = JSON.decode([String: Int].self, row["no_ic_reasons"]) ?? [:]
        r.withFactor = row["with_factor"]; r.withReturn = row["with_return"]; r.inSample = row["in_sample"]
        return r
    }

    private static func double(_ row: Row, _ column: String) -> Double { (row[column] as Double?) ?? .nan }
}

/// A factor with one version, as the audit log records it.
struct FactorSnapshot: Codable {
    var factor: FactorRecord
    var version: FactorVersionRecord?
}

/// JSON helpers for TEXT columns.
enum JSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try? decoder.decode(type, from: Data(text.utf8))
    }
}

/// Timestamps: ISO 8601 UTC with milliseconds, which sort as text.
public enum Clock {
    public static func now() -> String { format(Date()) }

    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

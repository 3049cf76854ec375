import Foundation
import PostgresNIO

extension PostgresFactorStore: FactorStore {
    // MARK: Factors

    public func insertFactors(_ entries: [(factor: FactorRecord, version: FactorVersionRecord)], actor: String, action: String) throws {
        let entries = entries.map { ($0.factor, $0.version) }
        try write { s in
            for (factor, version) in entries {
                // ON CONFLICT: a concurrent registration of the same code gets `duplicateCode`, not a constraint error.
                let inserted = try await s.rows("""
                    INSERT INTO factors (code, name, category, owner, tags, description, status, latest_version, created_at, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (code) DO NOTHING RETURNING code
                    """, [factor.code, factor.name, factor.category, factor.owner, JSON.encode(factor.tags), factor.description,
                          factor.status.rawValue, factor.latestVersion, factor.createdAt, factor.updatedAt])
                guard !inserted.isEmpty else { throw StoreError.duplicateCode(factor.code) }
                try await self.insertVersionRow(s, version)
                try await self.appendAudit(s, actor: actor, action: action, entity: factor.code, before: nil,
                                           after: JSON.encode(FactorSnapshot(factor: factor, version: version)))
            }
        }
    }

    public func appendVersion(_ version: FactorVersionRecord, status: FactorStatus?, actor: String, action: String) throws -> FactorRecord {
        try write { s in
            guard var factor = try await self.fetchFactor(s, version.code, lock: true) else { throw StoreError.unknownFactor(version.code) }
            guard version.version == factor.latestVersion + 1 else {
                throw StoreError.versionConflict(code: factor.code, expected: version.version, got: factor.latestVersion + 1)
            }
            let previous = try await self.fetchVersions(s, factor.code).last
            let before = JSON.encode(FactorSnapshot(factor: factor, version: previous))
            try await self.insertVersionRow(s, version)
            factor.latestVersion = version.version
            if let status { factor.status = status }
            factor.updatedAt = version.createdAt
            try await s.execute("UPDATE factors SET latest_version = $1, status = $2, updated_at = $3 WHERE code = $4",
                                [factor.latestVersion, factor.status.rawValue, factor.updatedAt, factor.code])
            try await self.appendAudit(s, actor: actor, action: action, entity: factor.code, before: before,
                                       after: JSON.encode(FactorSnapshot(factor: factor, version: version)))
            return factor
        }
    }

    public func updateStatus(code: String, from: Set<FactorStatus>, to status: FactorStatus, actor: String, action: String,
                             guarding: StatusGuard) throws -> FactorRecord {
        try write { s in
            // The row lock serialises this move with a new version of the same factor (appendVersion locks it too).
            guard var factor = try await self.fetchFactor(s, code, lock: true) else { throw StoreError.unknownFactor(code) }
            guard from.contains(factor.status) else { throw StoreError.invalidTransition(code: code, from: factor.status, to: status) }
            if guarding != .none {
                let author: String? = try await s.one("SELECT author FROM factor_versions WHERE code = $1 AND version = $2",
                                                      [code, factor.latestVersion]).map { try $0.get("author") }
                if let refusal = guarding.refusal(factor, author: author, actor: actor) { throw refusal }
            }
            let before = JSON.encode(factor)
            factor.status = status
            factor.updatedAt = Clock.now()
            try await s.execute("UPDATE factors SET status = $1, updated_at = $2 WHERE code = $3", [status.rawValue, factor.updatedAt, code])
            try await self.appendAudit(s, actor: actor, action: action, entity: code, before: before, after: JSON.encode(factor))
            if status == .approved {
                try await self.enqueueEvent(s, .factorApproved,
                                            payload: "{\"code\":\(JSON.encode(code)),\"version\":\(factor.latestVersion),\"by\":\(JSON.encode(actor))}",
                                            scope: EventScope(factors: [code], categories: [factor.category]))
            }
            return factor
        }
    }

    public func factor(code: String) throws -> FactorRecord? {
        try read { s in try await self.fetchFactor(s, code, lock: false) }
    }

    public func factors(matching filter: FactorFilter) throws -> [FactorRecord] {
        try read { s in
            var clauses: [String] = []
            var arguments: [any PostgresBindable] = []
            func add(_ column: String, _ value: String) { arguments.append(value); clauses.append("\(column) = $\(arguments.count)") }
            if let c = filter.category { add("category", c) }
            if let st = filter.status { add("status", st.rawValue) }
            if let o = filter.owner { add("owner", o) }
            let whereClause = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            let factors = try await s.rows("SELECT * FROM factors\(whereClause) ORDER BY code COLLATE \"C\"", arguments).map(Self.factorFrom)
            guard let tag = filter.tag else { return factors }
            return factors.filter { $0.tags.contains(tag) }
        }
    }

    public func versions(code: String) throws -> [FactorVersionRecord] {
        try read { s in try await self.fetchVersions(s, code) }
    }

    public func factorsWithLatestHash(_ hash: String) throws -> [FactorRecord] {
        try read { s in
            try await s.rows("""
                SELECT f.* FROM factors f JOIN factor_versions v ON v.code = f.code AND v.version = f.latest_version
                WHERE v.hash = $1 ORDER BY f.code COLLATE "C"
                """, [hash]).map(Self.factorFrom)
        }
    }

    public func audit(entity: String?, limit: Int) throws -> [AuditRecord] {
        try read { s in
            let rows = if let entity {
                try await s.rows("SELECT * FROM audit_log WHERE entity = $1 ORDER BY id DESC LIMIT $2", [entity, limit])
            } else {
                try await s.rows("SELECT * FROM audit_log ORDER BY id DESC LIMIT $1", [limit])
            }
            return try rows.map { row in
                AuditRecord(id: try row.get("id"), at: try row.get("at"), actor: try row.get("actor"), action: try row.get("action"),
                            entity: try row.get("entity"), before: try row.optional("before"), after: try row.optional("after"))
            }
        }
    }

    private func fetchFactor(_ s: PostgresSession, _ code: String, lock: Bool) async throws -> FactorRecord? {
        // FOR UPDATE: two concurrent edits of one factor serialise instead of both reading the same latest version.
        try await s.one("SELECT * FROM factors WHERE code = $1\(lock ? " FOR UPDATE" : "")", [code]).map(Self.factorFrom)
    }

    private func fetchVersions(_ s: PostgresSession, _ code: String) async throws -> [FactorVersionRecord] {
        try await s.rows("SELECT * FROM factor_versions WHERE code = $1 ORDER BY version", [code]).map { row in
            FactorVersionRecord(code: try row.get("code"), version: try row.get("version"), expression: try row.get("expression"),
                                kind: FactorKind(rawValue: try row.get("kind")) ?? .expression, canonical: try row.get("canonical"), hash: try row.get("hash"), note: try row.get("note"),
                                author: try row.get("author"), createdAt: try row.get("created_at"),
                                nanRatio: try row.figure("nan_ratio"), infRatio: try row.figure("inf_ratio"),
                                sampleCells: try row.get("sample_cells"))
        }
    }

    private func insertVersionRow(_ s: PostgresSession, _ v: FactorVersionRecord) async throws {
        try await s.execute("""
            INSERT INTO factor_versions (code, version, expression, canonical, hash, note, author, created_at, nan_ratio, inf_ratio, sample_cells, kind)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """, [v.code, v.version, v.expression, v.canonical, v.hash, v.note, v.author, v.createdAt, v.nanRatio, v.infRatio, v.sampleCells, v.kind.rawValue])
    }

    static func factorFrom(_ row: PostgresRecord) throws -> FactorRecord {
        FactorRecord(code: try row.get("code"), name: try row.get("name"), category: try row.get("category"), owner: try row.get("owner"),
                     tags: JSON.decode([String].self, try row.get("tags")) ?? [], description: try row.get("description"),
                     status: FactorStatus(rawValue: try row.get("status")) ?? .draft, latestVersion: try row.get("latest_version"),
                     createdAt: try row.get("created_at"), updatedAt: try row.get("updated_at"))
    }

    // MARK: Results

    public func saveResults(run: RunRecord, results: [(result: ResultRecord, series: [ResultSeriesRow])], actor: String) throws {
        let results = results.map { ($0.result, $0.series) }
        try write { s in
            try await self.saveResultRows(s, run: run, results: results)
            try await self.appendAudit(s, actor: actor, action: "save-results", entity: run.runId, before: nil,
                                       after: "{\"results\":\(results.count),\"factors\":\(Set(results.map(\.0.key.factorCode)).count)}")
        }
    }

    /// Upserts a run's results and replaces their series (inside the caller's transaction).
    func saveResultRows(_ s: PostgresSession, run: RunRecord, results: [(ResultRecord, [ResultSeriesRow])]) async throws {
        try await s.execute("INSERT INTO runs (run_id, created_at, kind, parameters) VALUES ($1, $2, $3, $4) ON CONFLICT (run_id) DO NOTHING",
                            [run.runId, run.createdAt, run.kind, run.parameters])
        for (r, series) in results {
            let k = r.key
            var columns = ["run_id", "factor_code", "factor_version", "universe", "frequency", "start", "\"end\"", "horizon",
                           "settings_hash", "created_at", "delay", "quantiles", "n"]
            var values: [any PostgresBindable] = [k.runId, k.factorCode, k.factorVersion, k.universe, k.frequency, k.start, k.end,
                                                  k.horizon, k.settingsHash, r.createdAt, r.delay, r.quantiles, r.n]
            for (name, value) in r.figures { columns.append(name); values.append(value) }
            columns += ["group_means", "decay", "industry_ic", "rows", "rows_no_ic", "no_ic_reasons", "member_rows", "with_factor", "with_return", "in_sample", "error"]
            values += [JSON.encode(r.groupMeans.map { $0.isFinite ? $0 : nil }), JSON.encode(r.decay.map { $0.isFinite ? $0 : nil }),
                       JSON.encode(r.industryIC), r.rows, r.rowsNoIC, JSON.encode(r.noICReasons), r.memberRows, r.withFactor, r.withReturn, r.inSample, r.error]
            let updates = columns.dropFirst(9).map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
            let placeholders = (1...columns.count).map { "$\($0)" }.joined(separator: ", ")
            guard let row = try await s.one("""
                INSERT INTO results (\(columns.joined(separator: ", "))) VALUES (\(placeholders))
                ON CONFLICT (run_id, factor_code, factor_version, universe, frequency, start, "end", horizon, settings_hash)
                DO UPDATE SET \(updates) RETURNING id
                """, values) else { throw StoreError.database("the result upsert returned no id") }
            let id: Int64 = try row.get("id")
            guard !series.isEmpty else {
                try await s.execute("DELETE FROM result_series WHERE result_id = $1", [id])
                continue
            }
            let names = SeriesColumns.names, stored = SeriesColumns(series)
            try await s.execute("""
                INSERT INTO result_series (result_id, \(names.joined(separator: ", ")))
                VALUES (\((1...(names.count + 1)).map { "$\($0)" }.joined(separator: ", ")))
                ON CONFLICT (result_id) DO UPDATE SET \(names.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", "))
                """, [id, stored.dates] + stored.arrays.map { $0 as any PostgresBindable })
        }
    }

    public func results(matching filter: ResultFilter) throws -> [ResultRecord] {
        try read { s in
            var (clause, arguments) = Self.whereClause(filter)
            if let k = filter.after {
                let n = arguments.count
                clause += (clause.isEmpty ? " WHERE " : " AND ") + """
                    id > (SELECT id FROM results WHERE run_id = $\(n + 1) AND factor_code = $\(n + 2) AND factor_version = $\(n + 3)
                          AND universe = $\(n + 4) AND frequency = $\(n + 5) AND start = $\(n + 6) AND "end" = $\(n + 7) AND horizon = $\(n + 8)
                          AND settings_hash = $\(n + 9))
                    """
                arguments += [k.runId, k.factorCode, k.factorVersion, k.universe, k.frequency, k.start, k.end, k.horizon, k.settingsHash] as [any PostgresBindable]
            }
            clause += " ORDER BY id"
            if let limit = filter.limit { arguments.append(limit); clause += " LIMIT $\(arguments.count)" }
            return try await s.rows("SELECT * FROM results\(clause)", arguments).map(Self.resultFrom)
        }
    }

    public func series(key: ResultKey) throws -> [ResultSeriesRow] {
        try read { s in
            guard let row = try await s.one("""
                SELECT s.* FROM result_series s JOIN results r ON r.id = s.result_id
                WHERE r.run_id = $1 AND r.factor_code = $2 AND r.factor_version = $3 AND r.universe = $4 AND r.frequency = $5
                AND r.start = $6 AND r."end" = $7 AND r.horizon = $8 AND r.settings_hash = $9
                """, [key.runId, key.factorCode, key.factorVersion, key.universe, key.frequency, key.start, key.end,
                      key.horizon, key.settingsHash]) else { return [] }
            return try SeriesColumns(dates: try row.get("dates"),
                                     arrays: try SeriesColumns.arrayNames.map { Array(buffer: try row.get($0, ByteBuffer.self)) }).rows()
        }
    }

    public func leaderboard(_ query: LeaderboardQuery) throws -> [ResultRecord] {
        guard ResultRecord.metricNames.contains(query.metric) else {
            throw StoreError.unknownMetric(query.metric, available: ResultRecord.metricNames)
        }
        return try read { s in
            var (clause, arguments) = Self.whereClause(ResultFilter(universe: query.universe, frequency: query.frequency, horizon: query.horizon))
            clause += clause.isEmpty ? " WHERE error IS NULL" : " AND error IS NULL"
            if let start = query.start { arguments.append(start); clause += " AND start = $\(arguments.count)" }
            if let end = query.end { arguments.append(end); clause += " AND \"end\" = $\(arguments.count)" }
            if let hashes = query.settingsHashes {
                var places: [String] = []
                for h in hashes { arguments.append(h); places.append("$\(arguments.count)") }
                clause += hashes.isEmpty ? " AND FALSE" : " AND settings_hash IN (\(places.joined(separator: ", ")))"
            }
            arguments.append(max(0, query.top))
            // Each (factor, universe, frequency, horizon, settings)'s latest result, best first; undefined values last.
            // Raw and neutralized results of a factor are ranked side by side, not one replacing the other.
            return try await s.rows("""
                SELECT * FROM results WHERE id IN (
                    SELECT MAX(id) FROM results\(clause) GROUP BY factor_code, universe, frequency, horizon, settings_hash)
                ORDER BY \(query.metric) IS NULL, \(query.metric) DESC, id LIMIT $\(arguments.count)
                """, arguments).map(Self.resultFrom)
        }
    }

    public func runs() throws -> [RunRecord] {
        try read { s in
            try await s.rows("SELECT * FROM runs ORDER BY created_at COLLATE \"C\", run_id COLLATE \"C\"").map {
                RunRecord(runId: try $0.get("run_id"), createdAt: try $0.get("created_at"), kind: try $0.get("kind"),
                          parameters: try $0.get("parameters"))
            }
        }
    }

    private static func whereClause(_ filter: ResultFilter) -> (String, [any PostgresBindable]) {
        var clauses: [String] = []
        var arguments: [any PostgresBindable] = []
        func add(_ condition: String, _ value: any PostgresBindable) {
            arguments.append(value)
            clauses.append(condition.replacingOccurrences(of: "?", with: "$\(arguments.count)"))
        }
        if let v = filter.factorCode { add("factor_code = ?", v) }
        if let v = filter.runId { add("run_id = ?", v) }
        if let v = filter.universe { add("universe = ?", v) }
        if let v = filter.frequency { add("frequency = ?", v) }
        if let v = filter.horizon { add("horizon = ?", v) }
        if let v = filter.from { add("\"end\" >= ?", v) }
        if let v = filter.to { add("start <= ?", v) }
        return (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    static func resultFrom(_ row: PostgresRecord) throws -> ResultRecord {
        let key = ResultKey(runId: try row.get("run_id"), factorCode: try row.get("factor_code"), factorVersion: try row.get("factor_version"),
                            universe: try row.get("universe"), frequency: try row.get("frequency"), start: try row.get("start"),
                            end: try row.get("end"), horizon: try row.get("horizon"), settingsHash: try row.get("settings_hash"))
        var r = ResultRecord(key: key, createdAt: try row.get("created_at"), delay: try row.get("delay"), quantiles: try row.get("quantiles"),
                             error: try row.optional("error"))
        r.n = try row.get("n")
        for (column, path) in Self.figureColumns { r[keyPath: path] = try row.figure(column) }
        r.groupMeans = (JSON.decode([Double?].self, try row.get("group_means")) ?? []).map { $0 ?? .nan }
        r.decay = (JSON.decode([Double?].self, try row.get("decay")) ?? []).map { $0 ?? .nan }
        r.industryIC = JSON.decode([IndustryICRecord].self, try row.get("industry_ic")) ?? []
        r.rows = try row.get("rows"); r.rowsNoIC = try row.get("rows_no_ic"); r.memberRows = try row.get("member_rows")
        r.noICReasons = JSON.decode([String: Int].self, try row.get("no_ic_reasons")) ?? [:]
        r.withFactor = try row.get("with_factor"); r.withReturn = try row.get("with_return"); r.inSample = try row.get("in_sample")
        return r
    }

    /// The figure columns and where each goes (the same order as `ResultRecord.figures`).
    private static let figureColumns: [(String, WritableKeyPath<ResultRecord, Double> & Sendable)] = [
        ("ic_mean", \.icMean), ("ic_std", \.icStd), ("icir", \.icir), ("ic_t", \.icT), ("ic_nw_t", \.icNwT), ("ic_positive", \.icPositive),
        ("rank_ic_mean", \.rankICMean), ("rank_ic_std", \.rankICStd), ("rank_icir", \.rankICIR), ("rank_ic_t", \.rankICT),
        ("rank_ic_nw_t", \.rankICNwT), ("rank_ic_positive", \.rankICPositive), ("ls_mean", \.lsMean), ("ls_std", \.lsStd),
        ("ls_ann_return", \.lsAnnReturn), ("ls_ann_vol", \.lsAnnVol), ("ls_sharpe", \.lsSharpe), ("ls_cum_return", \.lsCumReturn),
        ("ls_max_drawdown", \.lsMaxDrawdown), ("turnover_top", \.turnoverTop), ("turnover_bottom", \.turnoverBottom), ("autocorr", \.autocorr),
    ]
}

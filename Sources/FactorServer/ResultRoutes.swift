import FactorCore
import FactorPlatform
import FactorStore
import Foundation
import Hummingbird

/// Results, per-date series and the leaderboard.
struct ResultRoutes {
    let services: Services

    func register(on router: APIRouter) {
        let store = services.store
        router.keysetList("/results", "Stored results in the order they were stored (filters: factor, run, universe, freq, horizon, from, to)", of: ResultRecord.self,
                    query: [.string("factor", "a factor code"), .string("run", "a run id"), .string("universe", "a universe (csi300, all …)"),
                            .string("freq", "a frequency (day, week, month, 5min …)"), .integer("horizon", 1...10_000, "a forward-return horizon"),
                            .date("from", "windows starting on or after"), .date("to", "windows ending on or before")],
                    defaultLimit: nil, cursorKey: { ResultRoutes.cursorKey($0.key) }) { request, context, page in
            try context.require([.researcher, .reviewer], to: "read results")
            let q = request.uri.queryParameters
            var filter = ResultFilter(factorCode: q["factor"].map(String.init), runId: q["run"].map(String.init),
                                      universe: q["universe"].map(String.init), frequency: q["freq"].map(String.init),
                                      horizon: try q["horizon"].map { try Self.integer(String($0), "horizon") },
                                      from: q["from"].map(String.init), to: q["to"].map(String.init))
            filter.after = try Self.resultKey(after: page)
            filter.limit = page.storeLimit
            return try store.results(matching: filter)
        }
        router.list("/results/series", "The per-date series of one result (its key's fields, as GET /results gives them)", of: ResultSeriesRow.self,
                    query: [.string("run", "the run id", required: true), .string("factor", "the factor code", required: true),
                            .integer("version", 1...1_000_000, "the factor version", required: true), .string("universe", "the universe", required: true),
                            .string("freq", "the frequency", required: true), .date("start", "the window's start", required: true),
                            .date("end", "the window's end", required: true), .integer("horizon", 1...10_000, "the horizon", required: true),
                            .string("settings", "the settings hash", required: true)],
                    cursorKey: \.date) { request, context in
            try context.require([.researcher, .reviewer], to: "read results")
            let q = request.uri.queryParameters
            func need(_ k: String) throws -> String {
                guard let v = q[Substring(k)] else { throw APIError(.badRequest, "missing query parameter \(k) (run, factor, version, universe, freq, start, end, horizon, settings)") }
                return String(v)
            }
            let key = ResultKey(runId: try need("run"), factorCode: try need("factor"), factorVersion: try Self.integer(try need("version"), "version"),
                                universe: try need("universe"), frequency: try need("freq"), start: try need("start"), end: try need("end"),
                                horizon: try Self.integer(try need("horizon"), "horizon"), settingsHash: try need("settings"))
            return try store.series(key: key)
        }
        router.get("/settings", "What each stored settings hash means: {hash: \"raw\" or \"winsorize mad:3 · neutralize industry · zscore\"}",
                   replies: [.ok([String: String].self)]) { _, context in
            try context.require([.researcher, .reviewer], to: "read results")
            return try JSONIO.response(SettingsLabels.labels(try store.runs()))
        }
        router.get("/leaderboard", "Each factor's latest result per settings, best first (top, by, universe, freq, horizon, start and end of the window, settings: raw, a summary as GET /settings gives it, or a hash)",
                   query: [.integer("top", 1...1000, "how many (default 10)"), .string("by", "the metric to rank by (default rank_icir)"),
                           .string("universe", "a universe"), .string("freq", "a frequency"), .integer("horizon", 1...10_000, "a horizon"),
                           .date("start", "the window's start"), .date("end", "the window's end"), .string("settings", "raw, a summary or a hash")],
                   replies: [.ok([ResultRecord].self)]) { request, context in
            try context.require([.researcher, .reviewer], to: "read results")
            let q = request.uri.queryParameters
            var hashes: [String]?
            if let settings = q["settings"].map(String.init) {
                let labels = SettingsLabels.labels(try store.runs())
                hashes = SettingsLabels.hashes(matching: settings, in: labels)
                if hashes!.isEmpty {
                    throw APIError(.badRequest, "no stored results were evaluated with settings '\(settings)'; stored: \(Set(labels.values).sorted().joined(separator: "; "))")
                }
            }
            var query = LeaderboardQuery(top: try q["top"].map { try Self.integer(String($0), "top") } ?? 10,
                                         metric: q["by"].map(String.init) ?? "rank_icir", universe: q["universe"].map(String.init),
                                         frequency: q["freq"].map(String.init),
                                         horizon: try q["horizon"].map { try Self.integer(String($0), "horizon") },
                                         start: q["start"].map(String.init), end: q["end"].map(String.init))
            query.settingsHashes = hashes
            guard (1...1000).contains(query.top) else { throw APIError(.badRequest, "top must be 1…1000") }
            return try JSONIO.response(try store.leaderboard(query))
        }
    }

    /// A result's key as one string, unique among results (JSON: any field may hold any character).
    static func cursorKey(_ k: ResultKey) -> String {
        String(decoding: (try? JSONEncoder().encode([k.runId, k.factorCode, String(k.factorVersion), k.universe, k.frequency, k.start, k.end,
                                                     String(k.horizon), k.settingsHash])) ?? Data(), as: UTF8.self)
    }

    /// The key a page of results continues after.
    static func resultKey(after page: Pagination.Keyset) throws -> ResultKey? {
        guard let text = page.after else { return nil }
        guard let f = try? JSONDecoder().decode([String].self, from: Data(text.utf8)), f.count == 9, let version = Int(f[2]), let horizon = Int(f[7]) else {
            throw APIError(.badRequest, "cursor is not a cursor of this list", code: "invalid_cursor", field: "cursor")
        }
        return ResultKey(runId: f[0], factorCode: f[1], factorVersion: version, universe: f[3], frequency: f[4], start: f[5], end: f[6],
                         horizon: horizon, settingsHash: f[8])
    }

    static func integer(_ text: String, _ name: String) throws -> Int {
        guard let v = Int(text) else { throw APIError(.badRequest, "\(name) must be an integer, got '\(text)'") }
        return v
    }
}

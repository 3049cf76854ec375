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
        router.get("/results", "Stored results (filters: factor, run, universe, freq, horizon, from, to)") { request, context in
            try context.require([.researcher, .reviewer], to: "read results")
            let q = request.uri.queryParameters
            let filter = ResultFilter(factorCode: q["factor"].map(String.init), runId: q["run"].map(String.init),
                                      universe: q["universe"].map(String.init), frequency: q["freq"].map(String.init),
                                      horizon: try q["horizon"].map { try Self.integer(String($0), "horizon") },
                                      from: q["from"].map(String.init), to: q["to"].map(String.init))
            return try JSONIO.response(try store.results(matching: filter))
        }
        router.get("/results/series", "The per-date series of one result") { request, context in
            try context.require([.researcher, .reviewer], to: "read results")
            let q = request.uri.queryParameters
            func need(_ k: String) throws -> String {
                guard let v = q[Substring(k)] else { throw APIError(.badRequest, "missing query parameter \(k) (run, factor, version, universe, freq, start, end, horizon, settings)") }
                return String(v)
            }
            let key = ResultKey(runId: try need("run"), factorCode: try need("factor"), factorVersion: try Self.integer(try need("version"), "version"),
                                universe: try need("universe"), frequency: try need("freq"), start: try need("start"), end: try need("end"),
                                horizon: try Self.integer(try need("horizon"), "horizon"), settingsHash: try need("settings"))
            return try JSONIO.response(try store.series(key: key))
        }
        router.get("/settings", "What each stored settings hash means: {hash: \"raw\" or \"winsorize mad:3 · neutralize industry · zscore\"}") { _, context in
            try context.require([.researcher, .reviewer], to: "read results")
            return try JSONIO.response(SettingsLabels.labels(try store.runs()))
        }
        router.get("/leaderboard", "Each factor's latest result per settings, best first (top, by, universe, freq, horizon, start and end of the window, settings: raw, a summary as GET /settings gives it, or a hash)") { request, context in
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

    static func integer(_ text: String, _ name: String) throws -> Int {
        guard let v = Int(text) else { throw APIError(.badRequest, "\(name) must be an integer, got '\(text)'") }
        return v
    }
}

import FactorStore
import Foundation

/// What is built when a job's last task ends: a CSV of all its results, the top factors, the failures.
public enum JobSummary {
    /// Folder for summary CSVs: beside the database, `job-summaries/`.
    public static func directory(databasePath: String) -> String {
        let dir = (databasePath as NSString).deletingLastPathComponent
        return (dir.isEmpty ? "." : dir) + "/job-summaries"
    }

    /// Where a store's job summaries go: beside an SQLite file, else `job-summaries/` in the working directory.
    static func directory(for store: any PlatformStore) -> String {
        (store as? SQLiteFactorStore).map { directory(databasePath: $0.path) } ?? "job-summaries"
    }

    /// Writes `<directory>/<job id>.csv` with every result of the job's run and records the path on the job.
    @discardableResult
    public static func build(job: JobRecord, store: any PlatformStore) throws -> String {
        let results = try store.results(matching: ResultFilter(runId: job.runId))
        let dir = directory(for: store)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/\(job.id).csv"
        let q = results.map(\.groupMeans.count).max() ?? 0
        var lines = [(["factor", "version", "universe", "frequency", "start", "end", "horizon", "n"] + ResultRecord.metricNames
                      + (0..<q).map { "q\($0 + 1)_mean" } + ["error"]).joined(separator: ",")]
        for r in results {
            var cells = [r.key.factorCode, String(r.key.factorVersion), r.key.universe, r.key.frequency, r.key.start, r.key.end,
                         String(r.key.horizon), String(r.n)]
            cells += r.figures.map { $0.1.isFinite ? $0.1.description : "" }
            cells += (0..<q).map { $0 < r.groupMeans.count && r.groupMeans[$0].isFinite ? r.groupMeans[$0].description : "" }
            cells.append((r.error ?? "").replacingOccurrences(of: ",", with: ";").replacingOccurrences(of: "\n", with: " "))
            lines.append(cells.joined(separator: ","))
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try store.setJobSummary(id: job.id, path: path)
        return path
    }

    /// The job's results that carry an error instead of figures (factors that could not be evaluated).
    public static func failures(job: JobRecord, store: any PlatformStore) throws -> [ResultRecord] {
        try store.results(matching: ResultFilter(runId: job.runId)).filter { $0.error != nil }
    }

    /// The job's best results by Rank ICIR (the old pipeline's `publish_summary`).
    public static func top(_ n: Int, job: JobRecord, store: any PlatformStore, horizon: Int? = nil) throws -> [ResultRecord] {
        try store.results(matching: ResultFilter(runId: job.runId, horizon: horizon))
            .filter { $0.error == nil && $0.rankICIR.isFinite }
            .sorted { $0.rankICIR > $1.rankICIR }
            .prefix(n).map { $0 }
    }
}

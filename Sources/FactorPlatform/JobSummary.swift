import FactorStore
import Foundation

/// What is built when a job's last task ends: a CSV of all its results and the top factors, stored in the
/// database (every host reads the same record); a file is only an export of it.
public enum JobSummary {
    /// How many of the best results the stored summary keeps.
    public static let storedTop = 100

    /// Builds and stores the job's summary from its run's results.
    @discardableResult
    public static func build(job: JobRecord, store: any PlatformStore) throws -> JobSummaryRecord {
        let results = try store.results(matching: ResultFilter(runId: job.runId))
        let summary = JobSummaryRecord(jobId: job.id, csv: csv(results), top: best(storedTop, of: results), createdAt: Clock.now())
        try store.saveJobSummary(summary)
        return summary
    }

    /// One row per result: the key, n, every figure, the group means and the error.
    public static func csv(_ results: [ResultRecord]) -> String {
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
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the stored summary CSV to `path` (`show-job --summary-csv`); fails, naming the job's state, when the
    /// job has not ended.
    public static func export(jobId: String, to path: String, store: any PlatformStore) throws {
        guard let job = try store.job(id: jobId) else { throw StoreError.unknownJob(jobId) }
        guard let summary = try store.jobSummary(id: jobId) else {
            throw PlatformError.noSummary(jobId: jobId, status: job.status)
        }
        do {
            try summary.csv.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw PlatformError.export(path: path, reason: error.localizedDescription)
        }
    }

    /// The job's results that carry an error instead of figures (factors that could not be evaluated).
    public static func failures(job: JobRecord, store: any PlatformStore) throws -> [ResultRecord] {
        try store.results(matching: ResultFilter(runId: job.runId)).filter { $0.error != nil }
    }

    /// The job's best results by Rank ICIR (the old pipeline's `publish_summary`): from the stored summary once
    /// the job has one, else from the results stored so far.
    public static func top(_ n: Int, job: JobRecord, store: any PlatformStore, horizon: Int? = nil) throws -> [ResultRecord] {
        if let summary = try store.jobSummary(id: job.id) {
            // A summary with fewer than `storedTop` entries holds every ranked result; a full one only the best.
            let holdsAll = summary.top.count < storedTop
            if holdsAll || (horizon == nil && n <= storedTop) {
                return Array(summary.top.filter { horizon == nil || $0.key.horizon == horizon }.prefix(n))
            }
        }
        return best(n, of: try store.results(matching: ResultFilter(runId: job.runId, horizon: horizon)))
    }

    static func best(_ n: Int, of results: [ResultRecord]) -> [ResultRecord] {
        Array(results.filter { $0.error == nil && $0.rankICIR.isFinite }
            .sorted { $0.rankICIR != $1.rankICIR ? $0.rankICIR > $1.rankICIR : $0.key.factorCode < $1.key.factorCode }
            .prefix(n))
    }
}

import FactorStore
import Foundation

/// Alert rules evaluated when a job ends; alerts are stored and sent as `alert.raised` webhooks.
///
/// - `slow_task`: a task ran longer than the P95 of earlier tasks of its kind (same universe, frequency and batch
///   size; at least 20 earlier tasks).
/// - `task_failures`: more than 5 % of the job's tasks failed.
/// - `ic_drop`: a factor's mean IC fell by more than 0.02 against its previous run (same universe, frequency,
///   horizon and evaluation settings, so an industry-neutral result is compared with industry-neutral ones only).
///
/// Result alerts name the settings in their subject ("WQ_001 csi300 day h5 · neutralize industry").
/// - `coverage`: a result's sample is too small (fewer than 20 rows with an IC) or too sparse (under half of the
///   member-rows in the sample).
public struct JobMonitor: Sendable {
    public let store: any PlatformStore
    public var failureRate = 0.05
    public var icDrop = 0.02
    public var minRows = 20
    public var minSampleShare = 0.5

    public init(store: any PlatformStore) { self.store = store }

    /// Evaluates the rules for `job`, stores what fires and returns it.
    @discardableResult
    public func evaluate(_ job: JobRecord) throws -> [AlertRecord] {
        let now = Clock.now()
        var alerts: [AlertRecord] = []
        func raise(_ rule: String, _ severity: String, _ subject: String, _ message: String) {
            alerts.append(AlertRecord(rule: rule, severity: severity, subject: subject, message: message, jobId: job.id, createdAt: now))
        }
        let tasks = try store.tasks(jobId: job.id)
        // Task failures.
        let failed = tasks.filter { $0.status == .failed }.count
        if !tasks.isEmpty, Double(failed) / Double(tasks.count) > failureRate {
            raise("task_failures", "critical", "job \(job.id)", "\(failed) of \(tasks.count) tasks failed (over \(Int(failureRate * 100)) %)")
        }
        // Slow tasks against the history of their kind.
        let history = try store.recentFinishedTasks(limit: 2000).filter { $0.jobId != job.id }
        var baseline: [String: [Double]] = [:]
        for t in history { if let k = Self.kind(t), let d = Self.duration(t) { baseline[k, default: []].append(d) } }
        for t in tasks where t.status == .success {
            guard let k = Self.kind(t), let d = Self.duration(t), let past = baseline[k], past.count >= 20 else { continue }
            let sorted = past.sorted()
            let p95 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.95).rounded(.up)) - 1)]
            if d > p95 {
                raise("slow_task", "warning", "task \(t.id)", String(format: "ran %.2f s, above the P95 %.2f s of %d earlier %@ tasks", d, p95, past.count, k))
            }
        }
        // Results: IC drops and coverage.
        let results = try store.results(matching: ResultFilter(runId: job.runId))
        let settings = results.isEmpty ? [:] : SettingsLabels.labels(try store.runs().filter { $0.runId == job.runId })
        for r in results where r.error == nil {
            let subject = "\(r.key.factorCode) \(r.key.universe) \(r.key.frequency) h\(r.key.horizon) · \(settings[r.key.settingsHash] ?? "settings " + r.key.settingsHash.prefix(8))"
            let earlier = try store.results(matching: ResultFilter(factorCode: r.key.factorCode, universe: r.key.universe,
                                                                   frequency: r.key.frequency, horizon: r.key.horizon))
                // Only a comparable earlier evaluation: the same settings (delay, quantiles, preprocessing, label) and
                // saved before this one; the window may move (scheduled monitoring re-runs a rolling window).
                .filter { $0.key.runId != job.runId && $0.error == nil && $0.icMean.isFinite
                    && $0.key.settingsHash == r.key.settingsHash && $0.createdAt <= r.createdAt }
            if let previous = earlier.last, r.icMean.isFinite, previous.icMean - r.icMean > icDrop {
                raise("ic_drop", "warning", subject, String(format: "mean IC fell from %.4f (run %@) to %.4f", previous.icMean, previous.key.runId, r.icMean))
            }
            let share = r.memberRows > 0 ? Double(r.inSample) / Double(r.memberRows) : 0
            if r.n < minRows || share < minSampleShare {
                raise("coverage", "warning", subject, String(format: "%d rows with an IC; %.0f %% of member-rows in the sample", r.n, share * 100))
            }
        }
        if !alerts.isEmpty { try store.insertAlerts(alerts) }
        return alerts
    }

    static func kind(_ task: TaskRecord) -> String? {
        guard let p = try? JSONDecoder().decode(TaskPayload.self, from: Data(task.payload.utf8)) else { return nil }
        return "\(p.universe)/\(p.frequency)/\(p.factors.count)"
    }

    public static func duration(_ task: TaskRecord) -> Double? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let s = task.startedAt.flatMap(f.date(from:)), let e = task.finishedAt.flatMap(f.date(from:)) else { return nil }
        return e.timeIntervalSince(s)
    }
}

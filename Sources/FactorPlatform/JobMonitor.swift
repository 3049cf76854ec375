import FactorStore
import Foundation

/// Evaluates the stored alert rules (`AlertRuleRecord`, managed by `alert-rules`/`set-alert-rule`, `/alert-rules`
/// and the console) when a job ends; alerts are stored with the rule's id and the figures that triggered them, and
/// sent as `alert.raised`. A muted rule raises nothing; a rule's scope limits it to factors, categories or universes.
///
/// Result rules compare a result only with earlier results of the same factor, universe, frequency, horizon and
/// settings (so an industry-neutral result is compared with industry-neutral ones only), and name the settings in
/// their subject ("WQ_001 csi300 day h5 · neutralize industry").
public struct JobMonitor: Sendable {
    public let store: any PlatformStore

    public init(store: any PlatformStore) { self.store = store }

    /// Evaluates the rules for `job`, stores what fires and returns it.
    @discardableResult
    public func evaluate(_ job: JobRecord) throws -> [AlertRecord] {
        let rules = try store.alertRules().filter { !$0.muted }
        guard !rules.isEmpty else { return [] }
        let now = Clock.now()
        var alerts: [AlertRecord] = []
        let tasks = try store.tasks(jobId: job.id)
        let results = try store.results(matching: ResultFilter(runId: job.runId)).filter { $0.error == nil }
        let jobUniverses = Array(Set(results.map(\.key.universe) + tasks.compactMap { Self.payload($0)?.universe })).sorted()
        var categories: [String: String] = [:]
        func category(_ code: String) -> String? {
            if let known = categories[code] { return known }
            let found = (try? store.factor(code: code))??.category
            categories[code] = found
            return found
        }

        for rule in rules where !rule.kind.isPerResult && rule.scope.covers(factor: nil, category: nil, universes: jobUniverses) {
            func raise(_ subject: String, _ message: String, _ figures: [String: Double]) {
                alerts.append(AlertRecord(rule: rule.id, severity: rule.severity, subject: subject, message: message, jobId: job.id,
                                          createdAt: now, figures: figures))
            }
            switch rule.kind {
            case .taskFailures:
                let failed = tasks.filter { $0.status == .failed }.count
                let rate = tasks.isEmpty ? 0 : Double(failed) / Double(tasks.count)
                if rate > rule.threshold {
                    raise("job \(job.id)", String(format: "%d of %d tasks failed (%.1f %%, over %g %%)", failed, tasks.count, rate * 100, rule.threshold * 100),
                          ["failed": Double(failed), "tasks": Double(tasks.count), "rate": rate, "threshold": rule.threshold])
                }
            case .slowTask:
                let history = try store.recentFinishedTasks(limit: 2000).filter { $0.jobId != job.id }
                var baseline: [String: [Double]] = [:]
                for t in history { if let k = Self.kind(t), let d = Self.duration(t) { baseline[k, default: []].append(d) } }
                for t in tasks where t.status == .success {
                    guard let k = Self.kind(t), let d = Self.duration(t), let past = baseline[k], past.count >= max(1, rule.lookback) else { continue }
                    let sorted = past.sorted()
                    let quantile = sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * rule.threshold).rounded(.up)) - 1))]
                    if d > quantile {
                        let label = "P" + String(format: "%g", rule.threshold * 100)
                        raise("task \(t.id)", String(format: "ran %.2f s, above the %@ %.2f s of %d earlier %@ tasks", d, label, quantile, past.count, k),
                              ["seconds": d, "quantile": quantile, "threshold": rule.threshold, "history": Double(past.count)])
                    }
                }
            default: break
            }
        }

        let resultRules = rules.filter(\.kind.isPerResult)
        if !results.isEmpty && !resultRules.isEmpty {
            let settings = SettingsLabels.labels(try store.runs().filter { $0.runId == job.runId })
            for r in results {
                let inScope = resultRules.filter { $0.scope.covers(factor: r.key.factorCode, category: category(r.key.factorCode), universes: [r.key.universe]) }
                guard !inScope.isEmpty else { continue }
                let subject = "\(r.key.factorCode) \(r.key.universe) \(r.key.frequency) h\(r.key.horizon) · \(settings[r.key.settingsHash] ?? "settings " + r.key.settingsHash.prefix(8))"
                // Only comparable earlier evaluations: the same settings (delay, quantiles, preprocessing, label), saved
                // before this one, oldest first; the window may move (scheduled monitoring re-runs a rolling window).
                var earlier: [ResultRecord]?
                func comparable() throws -> [ResultRecord] {
                    if let earlier { return earlier }
                    let found = try store.results(matching: ResultFilter(factorCode: r.key.factorCode, universe: r.key.universe,
                                                                         frequency: r.key.frequency, horizon: r.key.horizon))
                        .filter { $0.key.runId != job.runId && $0.error == nil && $0.key.settingsHash == r.key.settingsHash && $0.createdAt <= r.createdAt }
                    earlier = found
                    return found
                }
                for rule in inScope {
                    func raise(_ message: String, _ figures: [String: Double]) {
                        alerts.append(AlertRecord(rule: rule.id, severity: rule.severity, subject: subject, message: message, jobId: job.id,
                                                  createdAt: now, factorCode: r.key.factorCode, universe: r.key.universe,
                                                  figures: figures.merging(["threshold": rule.threshold]) { a, _ in a }))
                    }
                    let share = r.memberRows > 0 ? Double(r.inSample) / Double(r.memberRows) : 0
                    switch rule.kind {
                    case .icDrop:
                        if let previous = try comparable().last(where: { $0.icMean.isFinite }), r.icMean.isFinite, previous.icMean - r.icMean > rule.threshold {
                            raise(String(format: "mean IC fell from %.4f (run %@) to %.4f", previous.icMean, previous.key.runId, r.icMean),
                                  ["icMean": r.icMean, "previousICMean": previous.icMean, "drop": previous.icMean - r.icMean])
                        }
                    case .rankICDrift:
                        let past = try comparable().filter { $0.rankICMean.isFinite }.suffix(rule.lookback)
                        if past.count >= rule.lookback, r.rankICMean.isFinite {
                            let mean = past.map(\.rankICMean).reduce(0, +) / Double(past.count)
                            if abs(r.rankICMean - mean) > rule.threshold {
                                raise(String(format: "mean Rank IC %.4f drifted %+.4f from the mean %.4f of the last %d runs", r.rankICMean, r.rankICMean - mean, mean, past.count),
                                      ["rankICMean": r.rankICMean, "baseline": mean, "drift": r.rankICMean - mean, "runs": Double(past.count)])
                            }
                        }
                    case .coverage:
                        if share < rule.threshold {
                            raise(String(format: "%.0f %% of member-rows in the sample (%d of %d), under %g %%", share * 100, r.inSample, r.memberRows, rule.threshold * 100),
                                  ["share": share, "inSample": Double(r.inSample), "memberRows": Double(r.memberRows)])
                        }
                    case .sampleSize:
                        if Double(r.n) < rule.threshold {
                            raise(String(format: "%d dates with an IC, fewer than %g", r.n, rule.threshold), ["n": Double(r.n)])
                        }
                    case .nanRatio:
                        if r.memberRows > 0 {
                            let ratio = 1 - Double(r.withFactor) / Double(r.memberRows)
                            if ratio > rule.threshold {
                                raise(String(format: "%.0f %% of member-rows have no factor value (%d of %d), over %g %%", ratio * 100,
                                             r.memberRows - r.withFactor, r.memberRows, rule.threshold * 100),
                                      ["nanRatio": ratio, "withFactor": Double(r.withFactor), "memberRows": Double(r.memberRows)])
                            }
                        }
                    case .slowTask, .taskFailures: break
                    }
                }
            }
        }
        if !alerts.isEmpty { try store.insertAlerts(alerts) }
        return alerts
    }

    static func payload(_ task: TaskRecord) -> TaskPayload? {
        try? JSONDecoder().decode(TaskPayload.self, from: Data(task.payload.utf8))
    }

    static func kind(_ task: TaskRecord) -> String? {
        payload(task).map { "\($0.universe)/\($0.frequency)/\($0.factors.count)" }
    }

    public static func duration(_ task: TaskRecord) -> Double? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let s = task.startedAt.flatMap(f.date(from:)), let e = task.finishedAt.flatMap(f.date(from:)) else { return nil }
        return e.timeIntervalSince(s)
    }
}

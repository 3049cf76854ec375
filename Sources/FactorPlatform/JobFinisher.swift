import FactorStore
import Foundation
import Logging

/// What happens when a job's last task ends, wherever it ended (a local worker, the server's worker routes,
/// `run-task`, or the sweep of tasks whose workers were lost): the job's status, its summary, its alerts.
public enum JobFinisher {
    /// Finishes the job if its tasks are all done; exactly one caller gets to build the summary.
    @discardableResult
    public static func finishIfDone(jobId: String, store: any PlatformStore, logger: Logger? = nil) -> JobRecord? {
        do {
            guard let job = try store.finishJobIfDone(id: jobId) else { return nil }
            let summary = try JobSummary.build(job: job, store: store)
            logger?.info("job \(job.status.rawValue)", metadata: ["job": "\(job.id)", "summary_rows": "\(summary.csv.split(separator: "\n").count - 1)"])
            for alert in try JobMonitor(store: store).evaluate(job) {
                logger?.warning("alert \(alert.rule): \(alert.subject): \(alert.message)", metadata: ["job": "\(job.id)", "severity": "\(alert.severity)"])
            }
            return job
        } catch {
            logger?.error("job summary failed", metadata: ["job": "\(jobId)", "error": "\(error)"])
            return nil
        }
    }

    /// Fails the tasks whose workers were lost on every attempt ("worker lost N times") and finishes their jobs.
    public static func failLostTasks(store: any PlatformStore, logger: Logger? = nil) {
        do {
            for jobId in try store.failLostTasks(now: Date().timeIntervalSince1970) {
                logger?.warning("a task's worker was lost on every attempt; the task failed", metadata: ["job": "\(jobId)"])
                finishIfDone(jobId: jobId, store: store, logger: logger)
            }
        } catch {
            logger?.error("cannot sweep lost tasks", metadata: ["error": "\(error)"])
        }
    }
}

import FactorPlatform
import FactorStore
import Foundation
import Hummingbird
import Metrics
import Prometheus

/// Prometheus metrics: HTTP requests through swift-metrics (bootstrapped once per process onto a Prometheus
/// registry), and the queue's state read from the database at scrape time, so that every worker process counts.
public final class Monitoring: @unchecked Sendable {
    public static let shared = Monitoring()

    public let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private var seenTasks = Set<String>()
    private let taskDurations: DurationHistogram
    private let queueDepth, running, retries, failures, evaluationsPerSecond: Prometheus.Gauge

    private init() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        taskDurations = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "factorlab", metricName: "task_duration", unitName: "seconds",
                                             helpText: "Durations of successful tasks (all workers), from lease to completion"),
            buckets: [.milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
                      .seconds(30), .seconds(60), .seconds(300)])
        queueDepth = Self.gauge(registry, "queue_depth", "Tasks waiting to be leased")
        running = Self.gauge(registry, "tasks_running", "Tasks leased and running")
        retries = Self.gauge(registry, "task_retries", "Attempts beyond the first, over all tasks")
        failures = Self.gauge(registry, "task_failures", "Tasks that failed for good")
        evaluationsPerSecond = Self.gauge(registry, "evaluations_per_second", "Results stored per second over the last minute")
    }

    private static func gauge(_ registry: PrometheusCollectorRegistry, _ name: String, _ help: String) -> Prometheus.Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "factorlab", metricName: name, unitName: "", helpText: help))
    }

    /// The Prometheus text exposition, with the queue gauges refreshed from `store`.
    func scrape(_ store: any PlatformStore) throws -> String {
        let since = Date().addingTimeInterval(-60)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let stats = try store.queueStatistics(resultsSince: formatter.string(from: since))
        queueDepth.set(to: Double(stats.byStatus[.pending] ?? 0))
        running.set(to: Double(stats.byStatus[.running] ?? 0))
        retries.set(to: Double(stats.retries))
        failures.set(to: Double(stats.byStatus[.failed] ?? 0))
        evaluationsPerSecond.set(to: Double(stats.recentResults) / 60)
        lock.lock()
        for task in try store.recentFinishedTasks(limit: 1000) where !seenTasks.contains(task.id) {
            seenTasks.insert(task.id)
            if let seconds = JobMonitor.duration(task) { taskDurations.record(.milliseconds(Int64(seconds * 1000))) }
        }
        lock.unlock()
        return registry.emitToString()
    }
}

/// Counts and times every HTTP request (method, route, status) through swift-metrics.
struct HTTPMetricsMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        let dimensions = [("method", request.method.rawValue), ("route", route), ("status", String(response.status.code))]
        Counter(label: "factorlab_http_requests_total", dimensions: dimensions).increment()
        let elapsed = ContinuousClock.now - start
        Metrics.Timer(label: "factorlab_http_request_duration_seconds", dimensions: [("method", request.method.rawValue), ("route", route)])
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        return response
    }
}

import ArgumentParser
import FactorCore
import FactorData
import FactorExpr
import FactorPlatform
import FactorStore
import Foundation

struct BenchJobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Time a job of all Alpha158 factors through the queue with one worker process, then with two.",
        discussion: "Each worker evaluates on one thread (FACTOR_THREADS=1), so one worker uses one core and two use two.")

    @Option(help: "Data directory (default: $FACTOR_DATA_PATH, else ../shared/data/cn_csi300_daily).") var data: String?
    @Option var universe: String = "csi300"
    @Option var start: String = "2018-01-02"
    @Option var end: String = "2023-12-29"
    @Option var horizons: String = "1,5,20"
    @Option(help: "Factors per task.") var batchSize: Int = 8
    @Flag(help: "Print the figures as JSON (for bench all).") var json = false

    /// What `--json` prints: wall time per worker count, and one worker's time per task by part.
    struct Summary: Codable {
        var tasks: Int
        var wallSeconds: [Int: Double]
        var taskMilliseconds: Double, evaluateMilliseconds: Double, storeMilliseconds: Double
        var resultsPerTask: Int
        var storeShare: Double
    }

    func run() throws {
        let directory = data ?? ProcessInfo.processInfo.environment["FACTOR_DATA_PATH"] ?? "../shared/data/cn_csi300_daily"
        let work = NSTemporaryDirectory() + "factorlab-bench-jobs-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let store = try SQLiteFactorStore(path: work + "/bench.db")
        let source = try DataSources.open(directory: directory, kind: nil)
        let registry = FactorRegistry(store: store, validator: try ExpressionValidator(source: source))
        let drafts = Alpha158.features.map { FactorDraft(code: "A158_" + $0.name, expression: $0.expression, category: "alpha158") }
        let seeded = try registry.seed(drafts, actor: "bench")
        let codes = seeded.inserted
        if !json { print("data \(directory) · universe \(universe) · \(start)…\(end) · horizons \(horizons) · \(codes.count) factors (\(seeded.skipped.count) skipped by the data) · batch \(batchSize)") }
        let horizonList = horizons.split(separator: ",").compactMap { Int($0) }
        let executable = CommandLine.arguments[0]
        var rows: [[String]] = []
        var single: Double?
        var outcomes: [Worker.Outcome] = []
        var walls: [Int: Double] = [:], taskCount = 0
        for workers in [1, 2] {
            let request = JobRequest(selection: .codes(codes), includeDrafts: true, windows: [.init(start: start, end: end)],
                                     universes: [universe], horizons: horizonList, batchSize: batchSize,
                                     dataDirectory: (directory as NSString).standardizingPath, sourceKind: source.kind.rawValue)
            let planned = try JobPlanner.plan(request, store: store)
            let (job, _) = try store.createJob(planned.job, tasks: planned.tasks, actor: "bench")
            let clock = ContinuousClock()
            let t0 = clock.now
            let outputs = (0..<workers).map { work + "/worker-\(workers)-\($0).json" }
            let processes = try (0..<workers).map { k -> Process in
                let p = Process()
                p.executableURL = URL(fileURLWithPath: executable)
                p.arguments = ["worker", "--until-empty", "--poll", "0.05", "--name", "bench-\(k + 1)", "--db", store.path, "--json"]
                p.environment = ProcessInfo.processInfo.environment.merging(["FACTOR_THREADS": "1"]) { $1 }
                _ = FileManager.default.createFile(atPath: outputs[k], contents: nil)
                p.standardOutput = FileHandle(forWritingAtPath: outputs[k])
                p.standardError = FileHandle.nullDevice
                try p.run()
                return p
            }
            for p in processes { p.waitUntilExit() }
            let wall = (clock.now - t0).seconds
            if workers == 1 {
                outcomes = try outputs.flatMap { try JSONDecoder().decode([Worker.Outcome].self, from: Data(contentsOf: URL(fileURLWithPath: $0))) }
            }
            let tasks = try store.tasks(jobId: job.id)
            guard tasks.allSatisfy({ $0.status == .success }) else {
                throw CLIError("bench job did not finish: \(tasks.filter { $0.status != .success }.count) tasks not successful")
            }
            if workers == 1 { single = wall }
            walls[workers] = wall
            taskCount = tasks.count
            rows.append([String(workers), String(tasks.count), String(format: "%.2f", wall), String(format: "%.1f", wall / Double(tasks.count) * 1000),
                         single.map { String(format: "%.2f×", $0 / wall) } ?? "-"])
        }
        // Where one worker's task time goes: evaluating (data, factors, scores) against storing the results and series.
        let taskSeconds = outcomes.reduce(0) { $0 + $1.seconds }, evaluate = outcomes.reduce(0) { $0 + $1.evaluateSeconds }
        let storing = outcomes.reduce(0) { $0 + $1.storeSeconds }, results = outcomes.reduce(0) { $0 + $1.results }
        if json {
            let count = Double(max(1, outcomes.count))
            let summary = Summary(tasks: taskCount, wallSeconds: walls, taskMilliseconds: taskSeconds / count * 1000,
                                  evaluateMilliseconds: evaluate / count * 1000, storeMilliseconds: storing / count * 1000,
                                  resultsPerTask: results / max(1, outcomes.count), storeShare: taskSeconds > 0 ? storing / taskSeconds : 0)
            print(String(decoding: try JSONEncoder().encode(summary), as: UTF8.self))
            return
        }
        print(Terminal.table(["workers", "tasks", "wall s", "ms per task", "speed-up"], rows))
        if !outcomes.isEmpty && taskSeconds > 0 {
            print(String(format: "one worker, per task: %.0f ms in all, %.0f ms evaluating, %.1f ms storing %d results with their per-date series (%.1f%% of the task)",
                         taskSeconds / Double(outcomes.count) * 1000, evaluate / Double(outcomes.count) * 1000,
                         storing / Double(outcomes.count) * 1000, results / outcomes.count, storing / taskSeconds * 100))
        }
        // Queue overhead: lease + complete round trips with no evaluation, through the same database.
        let overhead = try Self.queueOverhead(store: store)
        print(String(format: "queue overhead per task (lease, heartbeat, complete with results, in one process): %.2f ms", overhead * 1000))
    }

    /// Mean time of lease → renew → complete (writing 3 results with 250-row series) on an otherwise idle queue.
    static func queueOverhead(store: SQLiteFactorStore, count: Int = 200) throws -> Double {
        let now = Clock.now()
        let job = JobRecord(id: UUID().uuidString.lowercased(), runId: UUID().uuidString.lowercased(), idempotencyKey: nil,
                            status: .pending, priority: -1, maxAttempts: 1, parameters: "{}", createdAt: now, updatedAt: now)
        let tasks = (0..<count).map { TaskRecord(id: "\(job.id.prefix(8))-o\($0)", jobId: job.id, status: .pending, payload: "{}",
                                                 createdAt: now, updatedAt: now) }
        _ = try store.createJob(job, tasks: tasks, actor: "bench")
        let series = (0..<250).map { ResultSeriesRow(date: "d\($0)", n: 300, ic: 0.01, rankIC: 0.02, longShort: 0.001,
                                                     groups: [0, 0, 0, 0, 0], turnoverTop: 0.1, turnoverBottom: 0.1, autocorr: 0.9) }
        let clock = ContinuousClock()
        let t0 = clock.now
        for k in 0..<count {
            guard let lease = try store.leaseTask(owner: "overhead", seconds: 60, now: Date().timeIntervalSince1970) else { break }
            _ = try store.renewLease(taskId: lease.task.id, owner: "overhead", seconds: 60, now: Date().timeIntervalSince1970)
            let results = (1...3).map { h in
                (ResultRecord(key: ResultKey(runId: job.runId, factorCode: "F\(k)", factorVersion: 1, universe: "u", frequency: "day",
                                             start: "a", end: "b", horizon: h, settingsHash: "s"), createdAt: now, delay: 1, quantiles: 5),
                 series)
            }
            _ = try store.completeTask(taskId: lease.task.id, owner: "overhead",
                                       run: RunRecord(runId: job.runId, createdAt: now, kind: "bench", parameters: "{}"),
                                       results: results, now: Date().timeIntervalSince1970)
        }
        return (clock.now - t0).seconds / Double(count)
    }
}

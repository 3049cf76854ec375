import ArgumentParser
import FactorStore
import Foundation

struct BenchQueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Queue throughput: worker processes lease and complete small tasks on SQLite and on PostgreSQL, side by side.",
        discussion: """
            Each backend gets a job of --tasks empty tasks and --workers processes that lease and complete them as fast \
            as they can. Prints tasks per second, lease latency (p50, p99) and double runs (a task leased twice), which \
            must be 0. PostgreSQL runs in a scratch database created on the server of --db (default \
            $FACTORLAB_TEST_POSTGRES_URL) and dropped afterwards; without one, only SQLite runs.
            """)
    @Option(help: "A PostgreSQL server URL (postgres://user@host:port/db); a scratch database is made on it.") var db: String?
    @Option var workers: Int = 8
    @Option var tasks: Int = 2000

    struct Figures { var backend: String; var tasksPerSecond: Double; var p50: Double; var p99: Double; var doubleRuns: Int; var wrong: Int }

    func run() throws {
        guard workers >= 1, tasks >= 1 else { throw ValidationError("--workers and --tasks must be at least 1") }
        let work = NSTemporaryDirectory() + "factorlab-bench-queue-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var figures = [try measure(location: work + "/queue.db", backend: "SQLite", work: work)]
        let server = db ?? ProcessInfo.processInfo.environment["FACTORLAB_TEST_POSTGRES_URL"]
        if let server {
            guard StoreLocation.isPostgres(server) else { throw ValidationError("--db must be a postgres:// URL") }
            let name = "factorlab_bench_queue_\(getpid())"
            let url = try PostgresAdmin.createDatabase(serverURL: server, name: name)
            defer { try? PostgresAdmin.dropDatabase(serverURL: server, name: name) }
            figures.append(try measure(location: url, backend: "PostgreSQL", work: work))
        } else {
            Terminal.info("no PostgreSQL server (--db or $FACTORLAB_TEST_POSTGRES_URL): SQLite only")
        }
        print("\(tasks) tasks · \(workers) worker processes · lease + complete per task")
        print(Terminal.table(["backend", "tasks/s", "lease p50 ms", "lease p99 ms", "double runs", "not done once"], figures.map {
            [$0.backend, String(format: "%.0f", $0.tasksPerSecond), String(format: "%.2f", $0.p50), String(format: "%.2f", $0.p99),
             String($0.doubleRuns), String($0.wrong)]
        }))
        if figures.count == 2 {
            print(String(format: "PostgreSQL / SQLite throughput: %.2f×", figures[1].tasksPerSecond / figures[0].tasksPerSecond))
        }
        if figures.contains(where: { $0.doubleRuns > 0 || $0.wrong > 0 }) {
            throw CLIError("the queue ran a task twice or left one undone")
        }
    }

    private func measure(location: String, backend: String, work: String) throws -> Figures {
        let store = try StoreLocation.open(location)
        let jobId = "bench-\(backend.lowercased())"
        let now = Clock.now()
        let job = JobRecord(id: jobId, runId: "run-" + jobId, idempotencyKey: nil, status: .pending, priority: 0, maxAttempts: 3,
                            parameters: "{}", createdAt: now, updatedAt: now)
        _ = try store.createJob(job, tasks: (0..<tasks).map {
            TaskRecord(id: "\(jobId)-\(String(format: "%05d", $0))", jobId: jobId, status: .pending, payload: "{}", createdAt: now, updatedAt: now)
        }, actor: "bench")
        let processes = try (0..<workers).map { k -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            // The location (a URL may carry a password) goes through the environment, not the visible command line.
            p.arguments = ["bench", "queue-worker", "--name", "q\(k + 1)", "--out", "\(work)/\(backend)-\(k + 1).log"]
            p.environment = ProcessInfo.processInfo.environment.merging(["FACTOR_PLATFORM_DB": location]) { $1 }
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in processes { p.waitUntilExit() }
        guard processes.allSatisfy({ $0.terminationStatus == 0 }) else { throw CLIError("a \(backend) queue worker failed") }
        var leased: [String] = [], latencies: [Double] = [], first = Double.infinity, last = 0.0
        for k in 1...workers {
            let text = try String(contentsOfFile: "\(work)/\(backend)-\(k).log", encoding: .utf8)
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, let latency = Double(parts[1]), let start = Double(parts[2]), let end = Double(parts[3]) else { continue }
                leased.append(String(parts[0]))
                latencies.append(latency)
                first = min(first, start)
                last = max(last, end)
            }
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        let states = try store.tasks(jobId: jobId)
        let wrong = states.filter { $0.status != .success || $0.attempts != 1 }.count
        return Figures(backend: backend, tasksPerSecond: Double(leased.count) / max(1e-9, last - first), p50: percentile(0.5), p99: percentile(0.99),
                       doubleRuns: leased.count - Set(leased).count, wrong: wrong)
    }
}

/// One process of `bench queue`: leases and completes tasks until none is left; writes "task latency-ms start end" lines.
struct BenchQueueWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queue-worker", abstract: "One worker process of bench queue.",
                                                    shouldDisplay: false)
    @Option var db: String?
    @Option var name: String
    @Option var out: String

    func run() throws {
        let store = try StoreLocation.open(StoreLocation.resolve(db))
        var lines: [String] = []
        let run = RunRecord(runId: "bench", createdAt: Clock.now(), kind: "bench", parameters: "{}")
        while true {
            let started = Date().timeIntervalSince1970
            guard let lease = try store.leaseTask(owner: name, seconds: 300, now: started) else {
                if try store.openTaskCount() == 0 { break }
                continue
            }
            let leasedAt = Date().timeIntervalSince1970
            _ = try store.completeTask(taskId: lease.task.id, owner: name, run: run, results: [], now: leasedAt)
            lines.append("\(lease.task.id) \((leasedAt - started) * 1000) \(started) \(Date().timeIntervalSince1970)")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: out, atomically: true, encoding: .utf8)
    }
}

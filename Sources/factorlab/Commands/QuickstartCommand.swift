import ArgumentParser
import FactorCore
import FactorData
import FactorExpr
import FactorPlatform
import FactorStore
import Foundation
import Logging

struct QuickstartCommand: ParsableCommand {
    /// The quickstart prints its own steps; the worker's log shows only problems.
    static var quietLogger: Logger {
        var logger = Logger(label: "factorlab.worker")
        logger.logLevel = .warning
        return logger
    }

    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "The whole path in one command: database, catalogue, a job, workers until the queue is empty, the Top-10.",
        discussion: """
        Uses the configured data (--data, QLIB_DATA_PATH, FACTOR_DATA_PATH, ./stockdata) or, when there is none, a
        SYNTHETIC demo market it generates. Re-running it reuses the database and the job (idempotency key).
        """)

    @Option(help: "Folder for the database, the demo data and the job summary.") var dir: String = "factorlab-quickstart"
    @Option(help: "Data directory (default: the configured data, else a generated SYNTHETIC set).") var data: String?
    @Option(help: "Catalogue to seed: a JSON file or a built-in library (alpha158, wq101) (default: configs/factors.json when present, else alpha158).") var catalogue: String?
    @Option(help: "Worker threads.") var concurrency: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    func run() throws {
        let clock = ContinuousClock()
        let started = clock.now
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // 1. Data.
        let location: DataLocator.Location
        var synthetic = false
        if let found = try? DataLocator.resolve(explicitPath: data, kind: nil) {
            location = found
        } else {
            if let data { _ = try DataLocator.resolve(explicitPath: data, kind: nil) }
            let demo = dir + "/synthetic-data"
            if !FileManager.default.fileExists(atPath: demo + "/calendars/day.txt") { try SyntheticMarket.write(to: demo) }
            location = try DataLocator.resolve(explicitPath: demo, kind: .csv)
            synthetic = true
        }
        let source = try DataSources.open(directory: location.directory, kind: location.kind)
        let universes = try source.universeNames()
        let universe = synthetic ? "core20" : (universes.contains("csi300") ? "csi300" : "all")
        step("data: \(location.directory)\(synthetic ? " (SYNTHETIC, see its README.txt)" : "") · universe \(universe)")
        // 2. Database and catalogue.
        let store = try SQLiteFactorStore(path: dir + "/factorlab.db")
        let drafts: [FactorDraft]
        let path = catalogue ?? (FileManager.default.fileExists(atPath: "configs/factors.json") ? "configs/factors.json" : nil)
        if let path {
            drafts = try FactorRegistry.readCatalogue(path)
        } else {
            drafts = Alpha158.features.map { FactorDraft(code: "A158_" + $0.name, expression: $0.expression, category: "alpha158") }
        }
        let registry = FactorRegistry(store: store, validator: try ExpressionValidator(source: source))
        let seeded = try registry.seed(drafts, actor: "quickstart")
        let factors = try store.factors(matching: FactorFilter())
        step("database \(store.path): \(factors.count) factors (\(seeded.inserted.count) new, \(seeded.skipped.count) skipped by the data)")
        // 3. A job over the last two years of the calendar.
        let calendar = try source.calendar(frequency: nil)
        let end = calendar.label(calendar.count - 1)
        let start = calendar.label(max(0, calendar.count - 504))
        let request = JobRequest(selection: .codes(factors.filter { $0.status != .deprecated }.map(\.code)), includeDrafts: true,
                                 windows: [.init(start: start, end: end)], frequencies: ["day"], universes: [universe],
                                 horizons: [1, 5, 20], batchSize: 16, idempotencyKey: "quickstart-\(universe)-\(start)-\(end)-\(factors.count)",
                                 dataDirectory: (location.directory as NSString).standardizingPath, sourceKind: source.kind.rawValue)
        let planned = try JobPlanner.plan(request, store: store)
        let (job, created) = try store.createJob(planned.job, tasks: planned.tasks, actor: "quickstart")
        let total = try store.tasks(jobId: job.id).count
        step("job \(job.id): \(total) tasks (\(factors.count) factors × \(universe) × \(start)…\(end) × day, horizons 1/5/20)\(created ? "" : ", already submitted")")
        // 4. Workers until the queue is empty.
        let progress = Progress(total: total)
        let worker = Worker(store: store, options: Worker.Options(name: "quickstart", concurrency: concurrency, mode: .untilEmpty,
                                                                  leaseSeconds: 60, pollSeconds: 0.2),
                            logger: Self.quietLogger, onOutcome: { _ in progress.tick() })
        _ = worker.run()
        let finished = try store.job(id: job.id) ?? job
        step("job \(finished.status.rawValue) in \(String(format: "%.1f", (clock.now - started).seconds)) s · summary \(finished.summaryAt == nil ? "not stored" : "stored (show-job \(finished.id) --summary-csv FILE)")")
        // 5. Top-10.
        let top = try JobSummary.top(10, job: finished, store: store, horizon: 1)
        print(Terminal.table(["#", "factor", "category", "RankIC", "RankICIR", "t(NW)", "IC", "LS Sharpe", "turnover"],
                             top.enumerated().map { k, r in
                                 [String(k + 1), r.key.factorCode, factors.first { $0.code == r.key.factorCode }?.category ?? "",
                                  Terminal.number(r.rankICMean), Terminal.number(r.rankICIR), Terminal.number(r.rankICNwT),
                                  Terminal.number(r.icMean), Terminal.number(r.lsSharpe), Terminal.number(r.turnoverTop)]
                             }))
        print("\nNext: factorlab show-job \(job.id) --db \(store.path)   ·   factorlab leaderboard --db \(store.path) --horizon 5")
    }

    private func step(_ text: String) { Terminal.info("• " + text) }

    /// Prints task progress on stderr.
    final class Progress: @unchecked Sendable {
        private let total: Int
        private var done = 0
        private let lock = NSLock()
        init(total: Int) { self.total = total }
        func tick() {
            lock.lock(); done += 1; let d = done; lock.unlock()
            Terminal.info("  tasks \(d)/\(total)")
        }
    }
}

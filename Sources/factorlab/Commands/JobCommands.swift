import ArgumentParser
import FactorCore
import FactorData
import FactorPlatform
import FactorStore
import Foundation

struct SubmitJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit-job",
        abstract: "Queue an evaluation job: factors × universes × windows × frequencies, split into tasks for workers.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Factor codes, comma-separated (or use --category / --all-approved).") var codes: String?
    @Option(help: "Every factor of this category.") var category: String?
    @Flag(help: "Every approved factor.") var allApproved = false
    @Flag(help: "Allow factors that are not approved (drafts, in review).") var includeDrafts = false
    @Option(help: "First date of a single window (with --end).") var start: String?
    @Option(help: "Last date of a single window.") var end: String?
    @Option(help: "Windows START:END, comma-separated, e.g. 2019-01-01:2020-12-31,2021-01-01:2023-12-31.") var windows: String?
    @Option(help: "Frequencies, comma-separated (day, week, month, 5min…).") var freq: String = "day"
    @Option(help: "Universes, comma-separated (default: $FACTOR_INSTRUMENTS, else csi300).") var instruments: String?
    @Option var horizons: String = "1,5,20"
    @Option var quantiles: Int = 5
    @Option var delay: Int = 1
    @Option(help: "Factors per task (default: $FACTOR_BATCH_SIZE, else 8).") var batchSize: Int?
    @Option var priority: Int = 0
    @Option var maxAttempts: Int = 3
    @Option(help: "A key that makes re-submission return the existing job instead of a duplicate.") var idempotencyKey: String?
    @Option(help: "Data directory the tasks read (default: the configured data).") var data: String?
    @Option(help: "csv or qlib.") var source: String?
    @OptionGroup var evaluationFlags: EvaluationOptionFlags
    @Flag(help: "Evaluate every factor twice in this job, as asked and industry-neutral (needs --industry FILE): raw and neutral results side by side.")
    var compareNeutral = false

    struct Output: Encodable {
        var jobId: String
        var runId: String
        var tasks: Int
        var created: Bool
        var status: String
    }

    func run() throws {
        let (db, actor) = try store.openStore(for: [.researcher, .reviewer], to: "submit jobs")
        let env = ProcessInfo.processInfo.environment
        let selection: JobRequest.Selection
        switch (codes, category, allApproved) {
        case (let c?, nil, false): selection = .codes(c.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        case (nil, let c?, false): selection = .category(c)
        case (nil, nil, true): selection = .allApproved
        default: throw ValidationError("select factors with exactly one of: CODES, --category C, --all-approved")
        }
        var windowList: [JobRequest.Window] = []
        if let windows {
            for part in windows.split(separator: ",") {
                let ends = part.split(separator: ":")
                guard ends.count == 2, JobRequest.isDay(String(ends[0])), JobRequest.isDay(String(ends[1])) else {
                    throw ValidationError("--windows takes START:END pairs such as 2019-01-01:2020-12-31; '\(part)' is not one")
                }
                windowList.append(.init(start: String(ends[0]), end: String(ends[1])))
            }
        } else {
            guard let start, let end, JobRequest.isDay(start), JobRequest.isDay(end) else {
                throw ValidationError("give --start and --end (YYYY-MM-DD) or --windows")
            }
            windowList = [.init(start: start, end: end)]
        }
        let horizonList = try horizons.split(separator: ",").map { p -> Int in
            guard let h = Int(p), h >= 1 else { throw ValidationError("--horizons takes positive integers") }
            return h
        }
        let batch = batchSize ?? JobRequest.defaultBatchSize(env)
        guard batch >= 1 else { throw ValidationError("--batch-size must be ≥ 1") }
        let universes = instruments.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
            ?? JobRequest.defaultUniverses(env)
        let frequencies = freq.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        for f in frequencies where Frequency(f) == nil { throw ValidationError("--freq: '\(f)' is not a frequency") }
        let location = try DataLocator.resolve(explicitPath: data, kind: source.flatMap(SourceKind.init(rawValue:)))
        let dataSource = try DataSources.open(directory: location.directory, kind: location.kind)
        let known = try dataSource.universeNames()
        for u in universes where !u.contains(",") && !known.contains(u) && (try? dataSource.instrumentCodes().contains(u.uppercased())) != true {
            throw ValidationError("unknown universe '\(u)'; the data has \(known.joined(separator: ", "))")
        }
        var request = JobRequest(selection: selection, includeDrafts: includeDrafts, windows: windowList, frequencies: frequencies,
                                 universes: universes, horizons: horizonList, delay: delay, quantiles: quantiles, batchSize: batch,
                                 priority: priority, maxAttempts: maxAttempts, idempotencyKey: idempotencyKey,
                                 dataDirectory: (location.directory as NSString).standardizingPath,
                                 sourceKind: dataSource.kind.rawValue, options: evaluationFlags.absoluteOptions)
        request.compareNeutral = compareNeutral ? true : nil
        request = request.withIndustryDefault()
        do { try request.validate() } catch { throw ValidationError(error.description) }
        let planned = try JobPlanner.plan(request, store: db)
        let (job, created) = try db.createJob(planned.job, tasks: planned.tasks, actor: actor.name)
        let taskCount = created ? planned.tasks.count : try db.tasks(jobId: job.id).count
        if store.json {
            try store.printJSON(Output(jobId: job.id, runId: job.runId, tasks: taskCount, created: created, status: job.status.rawValue))
            return
        }
        print(created ? "submitted job \(job.id) (run \(job.runId)): \(taskCount) tasks" : "job \(job.id) already exists for this idempotency key (run \(job.runId), \(job.status.rawValue))")
    }
}

struct ListJobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list-jobs", abstract: "Jobs and their progress.")
    @OptionGroup var store: StoreOptions
    @Option(help: "PENDING, RUNNING, SUCCESS, FAILED or CANCELLED.") var status: String?

    struct Row: Encodable { var job: JobRecord; var tasks: [String: Int] }

    func run() throws {
        let db = try store.openStore()
        var filter: WorkStatus?
        if let status {
            guard let s = WorkStatus(rawValue: status.uppercased()) else {
                throw ValidationError("--status must be one of \(WorkStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter = s
        }
        let rows = try db.jobs(status: filter).map { job in
            Row(job: job, tasks: Dictionary(grouping: try db.tasks(jobId: job.id), by: \.status.rawValue).mapValues(\.count))
        }
        if store.json { try store.printJSON(rows); return }
        print(Terminal.table(["job", "status", "tasks done/total", "failed", "created", "run"], rows.map { r in
            let total = r.tasks.values.reduce(0, +)
            return [r.job.id, r.job.status.rawValue, "\(r.tasks["SUCCESS"] ?? 0)/\(total)", String(r.tasks["FAILED"] ?? 0),
                    r.job.createdAt, r.job.runId]
        }))
    }
}

struct ShowJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show-job", abstract: "A job's progress, tasks, timings, errors, summary and leaderboard.")
    @OptionGroup var store: StoreOptions
    @Argument var id: String
    @Option var top: Int = 10
    @Option(help: "Write the job's stored summary (every result as CSV) to this file.") var summaryCsv: String?

    struct Output: Encodable { var job: JobRecord; var tasks: [TaskRecord]; var top: [ResultRecord]; var failures: [ResultRecord] }

    func run() throws {
        let db = try store.openStore()
        guard let job = try db.job(id: id) else { throw StoreError.unknownJob(id) }
        if let summaryCsv {
            try JobSummary.export(jobId: id, to: summaryCsv, store: db)
            Terminal.info("wrote the summary of job \(id) to \(summaryCsv)")
        }
        let tasks = try db.tasks(jobId: id)
        let top = try JobSummary.top(self.top, job: job, store: db)
        let failures = try JobSummary.failures(job: job, store: db)
        if store.json { try store.printJSON(Output(job: job, tasks: tasks, top: top, failures: failures)); return }
        let counts = Dictionary(grouping: tasks, by: \.status).mapValues(\.count)
        print("job \(job.id) · \(job.status.rawValue) · run \(job.runId) · priority \(job.priority) · max attempts \(job.maxAttempts)")
        print("tasks: " + WorkStatus.allCases.map { "\($0.rawValue) \(counts[$0] ?? 0)" }.joined(separator: " · "))
        if let error = job.error { print("error: \(error)") }
        if let at = job.summaryAt { print("summary: stored \(at) (export: factorlab show-job \(job.id) --summary-csv FILE)") }
        print(Terminal.table(["task", "status", "attempts", "started", "finished", "error"], tasks.map { t in
            [t.id, t.status.rawValue, String(t.attempts), t.startedAt ?? "", t.finishedAt ?? "", String((t.error ?? "").prefix(70))]
        }))
        if !top.isEmpty {
            print("\ntop \(top.count) by Rank ICIR:")
            print(Terminal.table(["factor", "universe", "freq", "window", "h", "RankICIR", "RankIC", "LS Sharpe"], top.map { r in
                [r.key.factorCode, r.key.universe, r.key.frequency, "\(r.key.start)…\(r.key.end)", String(r.key.horizon),
                 Terminal.number(r.rankICIR), Terminal.number(r.rankICMean), Terminal.number(r.lsSharpe)]
            }))
        }
        if !failures.isEmpty {
            print("\nfactor failures:")
            for f in failures { print("  \(f.key.factorCode) (h\(f.key.horizon)): \(f.error ?? "")") }
        }
    }
}

struct CancelJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel-job", abstract: "Cancel what has not started.")
    @OptionGroup var store: StoreOptions
    @Argument var id: String

    func run() throws {
        let (db, actor) = try store.openStore(for: [.researcher, .reviewer], to: "cancel jobs", entity: id)
        let job = try db.cancelJob(id: id, actor: actor.name)
        if store.json { try store.printJSON(job) } else { print("job \(job.id): \(job.status.rawValue)") }
    }
}

struct RetryJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry-job", abstract: "Queue a job's failed tasks again.")
    @OptionGroup var store: StoreOptions
    @Argument var id: String

    func run() throws {
        let (db, actor) = try store.openStore(for: [.researcher, .reviewer], to: "retry jobs", entity: id)
        let job = try db.retryJob(id: id, actor: actor.name)
        if store.json { try store.printJSON(job) } else { print("job \(job.id): \(job.status.rawValue)") }
    }
}


import FactorCore
import FactorData
import FactorEval
import FactorExpr
import FactorPython
import FactorStore
import Foundation

/// Why a task failed, and whether trying again can help.
public struct TaskFailure: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var retryable: Bool
    public var description: String { message }
}

/// Runs one task: loads its universe, window and frequency once, evaluates the batch in one plan, and turns the
/// report into results keyed by the job's run id. A factor whose expression fails gets an error result; the
/// others are still evaluated.
public final class TaskRunner: @unchecked Sendable {
    private var sources: [String: any MarketDataSource] = [:]
    private let lock = NSLock()
    public let threads: Int
    /// The worker's Python runner: one process, started by the first Python factor and reused by every task after.
    public let python: PythonFactorRunner

    /// `python` defaults to a runner configured by the environment whose stderr (and what factors print) goes to this
    /// process's stderr: the task's log under `run-task` and Airflow.
    public init(threads: Int = Parallel.defaultThreads,
                python: PythonFactorRunner = PythonFactorRunner { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.threads = threads
        self.python = python
    }

    private func source(_ payload: TaskPayload) throws -> any MarketDataSource {
        lock.lock(); defer { lock.unlock() }
        let key = payload.sourceKind + ":" + payload.dataDirectory
        if let s = sources[key] { return s }
        let s = try DataSources.open(directory: payload.dataDirectory, kind: SourceKind(rawValue: payload.sourceKind))
        sources[key] = s
        return s
    }

    public func run(_ payload: TaskPayload, runId: String) throws(TaskFailure) -> [(result: ResultRecord, series: [ResultSeriesRow])] {
        do {
            guard let frequency = Frequency(payload.frequency) else {
                throw TaskFailure(message: "unknown frequency '\(payload.frequency)'", retryable: false)
            }
            guard let start = TimeFormat.parse(payload.start), let end = TimeFormat.parse(payload.end) else {
                throw TaskFailure(message: "bad window \(payload.start)…\(payload.end)", retryable: false)
            }
            let source = try self.source(payload)
            let fields = Set(try source.fieldNames())
            let settings: EvaluationSettings
            do { settings = try payload.settings() } catch { throw TaskFailure(message: error.description, retryable: false) }
            let label = payload.options?.label
            let checker = Checker(fields: fields).forFactors
            var good: [NamedExpression] = []
            var identities: [String: ResultRecorder.FactorIdentity] = [:]
            var failed: [(TaskPayload.Factor, String)] = []
            var pythonFactors: [TaskPayload.Factor] = []
            for f in payload.factors {
                if f.kind == .python {
                    pythonFactors.append(f)
                    identities[f.code] = .init(code: f.code, version: f.version)
                    continue
                }
                do {
                    _ = try checker.check(f.expression)
                    good.append(NamedExpression(name: f.code, text: f.expression))
                    identities[f.code] = .init(code: f.code, version: f.version)
                } catch {
                    failed.append((f, "\(error.summary)"))
                }
            }
            // A task none of whose factors can be evaluated has nothing to record: it fails for good, naming why, so the
            // job (and an orchestrator's run) ends FAILED instead of SUCCESS with only error results.
            if good.isEmpty, pythonFactors.isEmpty, !failed.isEmpty {
                throw TaskFailure(message: "no factor of the task can be evaluated: "
                                  + failed.map { "\($0.0.code): \($0.1)" }.joined(separator: "; "), retryable: false)
            }
            var records: [(result: ResultRecord, series: [ResultSeriesRow])] = []
            var universeName = payload.universe, frequencyName = frequency.description
            var windowStart = payload.start, windowEnd = payload.end
            func evaluate(_ batch: [NamedExpression]) throws -> EvaluationReport {
                let request = EvaluationRequest(universe: try UniverseSpec(parsing: payload.universe), start: start, end: end,
                                                frequency: frequency, factors: .expressions(batch), settings: settings,
                                                industryFile: payload.options?.industry, threads: threads, label: label)
                return try EvaluationRun.run(request, source: source).report
            }
            var reports: [EvaluationReport] = []
            if !good.isEmpty {
                do {
                    reports = [try evaluate(good)]
                } catch {
                    // One factor can sink a batch (e.g. a benchmark the data lacks): evaluate them one by one, and
                    // fail the task only when none succeeds (then the problem is the data, not a factor).
                    for g in good {
                        do { reports.append(try evaluate([g])) } catch let single {
                            if let f = payload.factors.first(where: { $0.code == g.name }) { failed.append((f, "\(single)")) }
                        }
                    }
                    if reports.isEmpty { throw error }
                }
            }
            if !pythonFactors.isEmpty {
                let (report, pythonFailures) = try evaluatePython(pythonFactors, payload: payload, start: start, end: end, frequency: frequency,
                                                                  settings: settings, label: label, source: source)
                if let report { reports.append(report) }
                failed += pythonFailures
                if reports.isEmpty {
                    throw TaskFailure(message: "no factor of the task can be evaluated: "
                                      + failed.map { "\($0.0.code): \($0.1)" }.joined(separator: "; "), retryable: false)
                }
            }
            for report in reports {
                records += ResultRecorder.records(report, runId: runId, identities: identities, label: label)
                universeName = report.universe; frequencyName = report.frequency
                windowStart = report.start; windowEnd = report.end
            }
            let hash = ResultRecorder.settingsHash(settings, label: label)
            for (f, message) in failed {
                for h in payload.horizons {
                    let key = ResultKey(runId: runId, factorCode: f.code, factorVersion: f.version, universe: universeName,
                                        frequency: frequencyName, start: windowStart, end: windowEnd, horizon: h, settingsHash: hash)
                    records.append((ResultRecord(key: key, createdAt: Clock.now(), delay: payload.delay, quantiles: payload.quantiles,
                                                 error: message), []))
                }
            }
            return records
        } catch let failure as TaskFailure {
            throw failure
        } catch let error as StoreError {
            throw TaskFailure(message: "\(error)", retryable: true)
        } catch {
            // Data and evaluation errors do not go away by retrying.
            throw TaskFailure(message: "\(error)", retryable: false)
        }
    }

    /// Evaluates the task's Python factors in the worker's runner: the declared fields loaded with the longest declared
    /// look-back; a factor that raises, times out, crashes its process or exhausts its memory fails alone, with the
    /// reason and its traceback (the process restarts for the next).
    private func evaluatePython(_ factors: [TaskPayload.Factor], payload: TaskPayload, start: Timestamp, end: Timestamp,
                                frequency: Frequency, settings: EvaluationSettings, label: String?,
                                source: any MarketDataSource) throws -> (EvaluationReport?, [(TaskPayload.Factor, String)]) {
        var failed: [(TaskPayload.Factor, String)] = []
        var declared: [(factor: TaskPayload.Factor, declaration: PythonFactorRunner.Declaration)] = []
        let available = try source.fieldNames()
        for f in factors {
            do throws(PythonFailure) {
                let declaration = try python.check(source: f.expression, filename: "\(f.code).py")
                let missing = declaration.fields.filter { !available.contains($0) }
                if missing.isEmpty {
                    declared.append((f, declaration))
                } else {
                    // Validated on other data: here the factor alone fails, not the task.
                    failed.append((f, "it declares \(missing.map { "\"\($0)\"" }.joined(separator: ", ")), which this data lacks (it has \(available.joined(separator: ", ")))"))
                }
            } catch {
                // No interpreter on this worker is the worker's problem: another worker may run the task.
                if error.kind == .unavailable { throw TaskFailure(message: error.message, retryable: true) }
                failed.append((f, "\(error)"))
            }
        }
        guard !declared.isEmpty else { return (nil, failed) }
        let declarations = declared
        let collector = PythonFailures()
        let runner = python
        let computed = ComputedFactors(names: declarations.map(\.factor.code), fields: Array(Set(declarations.flatMap(\.declaration.fields))).sorted(),
                                       lookbackRows: declarations.map(\.declaration.lookback).max() ?? 0,
                                       lookbacks: declarations.map(\.declaration.lookback)) { data, k in
            let (f, declaration) = declarations[k]
            do throws(PythonFailure) {
                return try runner.run(source: f.expression, filename: "\(f.code).py", fields: declaration.fields, data: data).panel
            } catch {
                collector.add(f, error)
                return nil
            }
        }
        let request = EvaluationRequest(universe: try UniverseSpec(parsing: payload.universe), start: start, end: end,
                                        frequency: frequency, factors: .computed(computed), settings: settings,
                                        industryFile: payload.options?.industry, threads: threads, label: label)
        let report: EvaluationReport
        do { report = try EvaluationRun.run(request, source: source).report } catch {
            // A data error of the Python batch fails its factors; the task's other results stand.
            return (nil, failed + declarations.map { ($0.factor, "\(error)") })
        }
        failed += collector.all.map { ($0.0, "\($0.1)") }
        return (report.factors.isEmpty ? nil : report, failed)
    }
}

/// Python failures recorded while an evaluation computes its factors.
private final class PythonFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [(TaskPayload.Factor, PythonFailure)] = []
    func add(_ f: TaskPayload.Factor, _ e: PythonFailure) { lock.lock(); list.append((f, e)); lock.unlock() }
    var all: [(TaskPayload.Factor, PythonFailure)] { lock.lock(); defer { lock.unlock() }; return list }
}

import FactorData
import FactorEval
import FactorStore
import Foundation

/// What `submit-job` asks for.
public struct JobRequest: Codable, Sendable {
    public enum Selection: Codable, Sendable, Equatable {
        case codes([String])
        case category(String)
        case allApproved
    }

    public var selection: Selection
    /// Allow factors that are not approved (drafts and those in review).
    public var includeDrafts: Bool
    public var windows: [Window]
    public var frequencies: [String]
    public var universes: [String]
    public var horizons: [Int]
    public var delay: Int
    public var quantiles: Int
    public var batchSize: Int
    public var priority: Int
    public var maxAttempts: Int
    public var idempotencyKey: String?
    /// The data directory every task reads, fixed at submission so workers agree.
    public var dataDirectory: String
    public var sourceKind: String
    /// Preprocessing, label, min-names and decay lags; nil for the defaults (the raw factor).
    public var options: EvaluationOptions?
    /// Evaluate every task twice, with `options` and with them plus industry neutralization, so that the raw and the
    /// industry-neutral results of each factor come from one job (nil: no).
    public var compareNeutral: Bool?

    /// The option sets the job's tasks are evaluated with: its options, and their industry-neutral twin when comparing.
    public var optionSets: [EvaluationOptions?] {
        guard compareNeutral == true else { return [options] }
        var neutral = options ?? EvaluationOptions()
        let parts = Set((neutral.neutralize ?? "").lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        neutral.neutralize = parts.contains("size") ? "industry,size" : "industry"
        return [options, neutral]
    }

    public struct Window: Codable, Sendable, Equatable {
        public var start: String
        public var end: String
        public init(start: String, end: String) { self.start = start; self.end = end }
    }

    public init(selection: Selection, includeDrafts: Bool = false, windows: [Window], frequencies: [String] = ["day"],
                universes: [String] = ["csi300"], horizons: [Int] = [1, 5, 20], delay: Int = 1, quantiles: Int = 5,
                batchSize: Int = 8, priority: Int = 0, maxAttempts: Int = 3, idempotencyKey: String? = nil,
                dataDirectory: String, sourceKind: String, options: EvaluationOptions? = nil) {
        self.options = options.flatMap { $0.isDefault ? nil : $0 }
        self.selection = selection
        self.includeDrafts = includeDrafts
        self.windows = windows
        self.frequencies = frequencies
        self.universes = universes
        self.horizons = horizons
        self.delay = delay
        self.quantiles = quantiles
        self.batchSize = batchSize
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.idempotencyKey = idempotencyKey
        self.dataDirectory = dataDirectory
        self.sourceKind = sourceKind
    }
}

/// Defaults the CLI and the API share: flags and body fields first, then the environment, then these.
extension JobRequest {
    /// `FACTOR_BATCH_SIZE`, else 8.
    public static func defaultBatchSize(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        environment["FACTOR_BATCH_SIZE"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 8
    }

    /// `FACTOR_INSTRUMENTS` (comma-separated), else csi300.
    public static func defaultUniverses(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let list = (environment["FACTOR_INSTRUMENTS"] ?? "csi300").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return list.isEmpty ? ["csi300"] : list
    }
}

/// One task's work: a batch of pinned factor versions on one universe, window and frequency.
public struct TaskPayload: Codable, Sendable, Equatable {
    public struct Factor: Codable, Sendable, Equatable {
        public var code: String
        public var version: Int
        /// The expression, or a Python factor's source.
        public var expression: String
        /// Python factors say so; nil is an expression (and what tasks planned before Python factors hold).
        public var kind: FactorKind?

        public init(code: String, version: Int, expression: String, kind: FactorKind? = nil) {
            self.code = code
            self.version = version
            self.expression = expression
            self.kind = kind == .expression ? nil : kind
        }
    }

    public var factors: [Factor]
    public var universe: String
    public var start: String
    public var end: String
    public var frequency: String
    public var horizons: [Int]
    public var delay: Int
    public var quantiles: Int
    public var dataDirectory: String
    public var sourceKind: String
    /// The job's evaluation options (nil: the defaults).
    public var options: EvaluationOptions?

    /// The evaluation settings of this task.
    public func settings() throws(EvaluationOptions.Invalid) -> EvaluationSettings {
        try (options ?? EvaluationOptions()).settings(horizons: horizons, delay: delay, quantiles: quantiles)
    }
}

/// Splits a job into tasks — factor batch × universe × window × frequency — so that a task loads its data once and
/// evaluates its whole batch in one compiled plan.
public enum JobPlanner {
    /// Resolves the factors (pinning their current versions) and writes the job and its tasks.
    public static func plan(_ request: JobRequest, store: any FactorStore) throws -> (job: JobRecord, tasks: [TaskRecord]) {
        guard request.batchSize >= 1 else { throw PlatformError.seedFile("the batch size must be ≥ 1") }
        var factors: [FactorRecord]
        switch request.selection {
        case .codes(let codes):
            factors = try codes.map { code in
                guard let f = try store.factor(code: code) else { throw PlatformError.store(.unknownFactor(code)) }
                return f
            }
        case .category(let category):
            factors = try store.factors(matching: FactorFilter(category: category))
                .filter { $0.status != .deprecated && (request.includeDrafts || $0.status == .approved) }
        case .allApproved:
            factors = try store.factors(matching: FactorFilter(status: .approved))
        }
        if !request.includeDrafts {
            let notApproved = factors.filter { $0.status != .approved }.map(\.code)
            if !notApproved.isEmpty { throw PlatformError.notApproved(notApproved) }
        }
        guard !factors.isEmpty else { throw PlatformError.noFactors }
        var pinned: [TaskPayload.Factor] = []
        for f in factors {
            guard let v = try store.versions(code: f.code).last else { throw PlatformError.store(.unknownFactor(f.code)) }
            pinned.append(.init(code: f.code, version: v.version, expression: v.expression, kind: v.kind))
        }
        let now = Clock.now()
        let jobId = UUID().uuidString.lowercased()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let parameters = String(decoding: try encoder.encode(request), as: UTF8.self)
        let job = JobRecord(id: jobId, runId: UUID().uuidString.lowercased(), idempotencyKey: request.idempotencyKey,
                            status: .pending, priority: request.priority, maxAttempts: max(1, request.maxAttempts),
                            parameters: parameters, createdAt: now, updatedAt: now)
        var tasks: [TaskRecord] = []
        let batches = stride(from: 0, to: pinned.count, by: request.batchSize).map { Array(pinned[$0..<min(pinned.count, $0 + request.batchSize)]) }
        for universe in request.universes {
            for window in request.windows {
                for frequency in request.frequencies {
                    for batch in batches {
                      for options in request.optionSets {
                        let payload = TaskPayload(factors: batch, universe: universe, start: window.start, end: window.end,
                                                  frequency: frequency, horizons: request.horizons, delay: request.delay,
                                                  quantiles: request.quantiles, dataDirectory: request.dataDirectory,
                                                  sourceKind: request.sourceKind, options: options)
                        tasks.append(TaskRecord(id: "\(jobId.prefix(8))-\(String(format: "%04d", tasks.count + 1))", jobId: jobId,
                                                status: .pending, payload: String(decoding: try encoder.encode(payload), as: UTF8.self),
                                                createdAt: now, updatedAt: now))
                      }
                    }
                }
            }
        }
        return (job, tasks)
    }
}

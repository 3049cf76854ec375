/// What an alert rule looks at when a job ends.
public enum AlertRuleKind: String, Codable, Sendable, CaseIterable {
    /// A task ran longer than the `threshold` quantile (0.95: the P95) of earlier tasks of its kind (same universe,
    /// frequency and batch size), once there are at least `lookback` of them.
    case slowTask = "slow_task"
    /// More than `threshold` (a share: 0.05 is 5 %) of the job's tasks failed.
    case taskFailures = "task_failures"
    /// A result's mean IC fell by more than `threshold` against the previous comparable run (same factor, universe,
    /// frequency, horizon and settings).
    case icDrop = "ic_drop"
    /// A result's mean Rank IC moved by more than `threshold` (either way) from the mean of the last `lookback`
    /// comparable runs, once there are that many.
    case rankICDrift = "rank_ic_drift"
    /// Under `threshold` (a share) of the member-rows made it into the sample.
    case coverage
    /// Fewer than `threshold` dates with an IC.
    case sampleSize = "sample_size"
    /// More than `threshold` (a share) of the member-rows have no factor value (NaN or missing).
    case nanRatio = "nan_ratio"

    /// Rules about one result (the others are about the job's tasks).
    public var isPerResult: Bool { self != .slowTask && self != .taskFailures }

    /// What `lookback` means for this kind, or nil when the kind does not use it.
    public var lookbackMeaning: String? {
        switch self {
        case .slowTask: return "earlier tasks needed"
        case .rankICDrift: return "earlier runs averaged"
        default: return nil
        }
    }
}

/// Which results an alert rule applies to; an empty dimension applies to all.
public struct AlertRuleScope: Codable, Sendable, Equatable {
    public var factors: [String]
    public var categories: [String]
    public var universes: [String]

    public init(factors: [String] = [], categories: [String] = [], universes: [String] = []) {
        self.factors = factors
        self.categories = categories
        self.universes = universes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        factors = try c.decodeIfPresent([String].self, forKey: .factors) ?? []
        categories = try c.decodeIfPresent([String].self, forKey: .categories) ?? []
        universes = try c.decodeIfPresent([String].self, forKey: .universes) ?? []
    }

    /// Whether a result of `factor` (of `category`) on `universe` is in scope; job-level rules pass nil and see only
    /// the universe dimension (a job concerns its universes).
    public func covers(factor: String?, category: String?, universes candidates: [String]) -> Bool {
        if let factor, !factors.isEmpty, !factors.contains(factor) { return false }
        if factor == nil, !factors.isEmpty { return false }
        if !categories.isEmpty { guard let category, categories.contains(category) else { return false } }
        if !universes.isEmpty, Set(universes).isDisjoint(with: candidates) { return false }
        return true
    }

    public var summary: String { NamedLists.summary([("factors", factors), ("categories", categories), ("universes", universes)], none: "all") }
}

/// An alert rule as stored: its kind, threshold, look-back, severity and scope; a muted rule raises nothing.
public struct AlertRuleRecord: Codable, Sendable, Equatable {
    public var id: String
    public var kind: AlertRuleKind
    public var threshold: Double
    public var lookback: Int
    public var severity: String
    public var scope: AlertRuleScope
    public var muted: Bool
    public var updatedAt: String
    public var updatedBy: String

    public init(id: String, kind: AlertRuleKind, threshold: Double, lookback: Int = 0, severity: String = "warning",
                scope: AlertRuleScope = AlertRuleScope(), muted: Bool = false, updatedAt: String = "", updatedBy: String = "") {
        self.id = id
        self.kind = kind
        self.threshold = threshold
        self.lookback = lookback
        self.severity = severity
        self.scope = scope
        self.muted = muted
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }

    /// The rules a new database starts with: the values the platform has always used (P95 of at least 20 earlier
    /// tasks, failure rate over 5 %, IC drop over 0.02, under half of the member-rows in the sample, fewer than 20
    /// dates with an IC), Rank IC drift of 0.03 over 5 runs and NaN ratio over 50 %.
    public static let defaults: [AlertRuleRecord] = [
        AlertRuleRecord(id: "slow_task", kind: .slowTask, threshold: 0.95, lookback: 20),
        AlertRuleRecord(id: "task_failures", kind: .taskFailures, threshold: 0.05, severity: "critical"),
        AlertRuleRecord(id: "ic_drop", kind: .icDrop, threshold: 0.02),
        AlertRuleRecord(id: "rank_ic_drift", kind: .rankICDrift, threshold: 0.03, lookback: 5),
        AlertRuleRecord(id: "coverage", kind: .coverage, threshold: 0.5),
        AlertRuleRecord(id: "sample_size", kind: .sampleSize, threshold: 20),
        AlertRuleRecord(id: "nan_ratio", kind: .nanRatio, threshold: 0.5),
    ]

    /// Severities a rule can have.
    public static let severities = ["info", "warning", "critical"]

    /// Why the rule's settings cannot be stored, or nil.
    public var problem: FieldProblem? {
        if id.isEmpty || id.count > 64 || !id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) {
            return FieldProblem(field: "id", reason: "use 1–64 letters, digits, '_', '-' or '.'")
        }
        guard threshold.isFinite else { return FieldProblem(field: "threshold", reason: "must be a finite number") }
        switch kind {
        case .slowTask where !(threshold > 0 && threshold < 1): return FieldProblem(field: "threshold", reason: "a quantile between 0 and 1 (0.95 is the P95)")
        case .taskFailures, .coverage, .nanRatio:
            if !(0...1).contains(threshold) { return FieldProblem(field: "threshold", reason: "a share between 0 and 1") }
        case .icDrop, .rankICDrift, .sampleSize:
            if threshold < 0 { return FieldProblem(field: "threshold", reason: "must not be negative") }
        default: break
        }
        if lookback < 0 || lookback > 10_000 { return FieldProblem(field: "lookback", reason: "between 0 and 10000") }
        if kind == .rankICDrift && lookback < 1 { return FieldProblem(field: "lookback", reason: "rank_ic_drift averages at least 1 earlier run") }
        if !Self.severities.contains(severity) { return FieldProblem(field: "severity", reason: "one of \(Self.severities.joined(separator: ", "))") }
        return nil
    }
}

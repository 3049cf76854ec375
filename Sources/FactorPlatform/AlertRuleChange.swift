import FactorStore

/// A change to an alert rule as the CLI, the API and the console send it: only what is given changes. A rule that does
/// not exist yet is created, and then needs a kind and a threshold.
public struct AlertRuleChange: Codable, Sendable, Equatable {
    public var kind: String?
    public var threshold: Double?
    public var lookback: Int?
    public var severity: String?
    public var scope: AlertRuleScope?
    public var muted: Bool?

    public init(kind: String? = nil, threshold: Double? = nil, lookback: Int? = nil, severity: String? = nil, scope: AlertRuleScope? = nil,
                muted: Bool? = nil) {
        self.kind = kind
        self.threshold = threshold
        self.lookback = lookback
        self.severity = severity
        self.scope = scope
        self.muted = muted
    }

    public typealias Problem = FieldProblem

    /// The rule `id` after the change (`existing` is the stored rule, nil for a new one); checked as a whole.
    public func applied(to existing: AlertRuleRecord?, id: String) throws -> AlertRuleRecord {
        var kindValue = existing?.kind
        if let kind {
            guard let k = AlertRuleKind(rawValue: kind) else {
                throw Problem(field: "kind", reason: "unknown kind '\(kind)'; kinds: \(AlertRuleKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            kindValue = k
        }
        guard let kindValue else { throw Problem(field: "kind", reason: "a new rule needs a kind (\(AlertRuleKind.allCases.map(\.rawValue).joined(separator: ", ")))") }
        guard let thresholdValue = threshold ?? existing?.threshold else { throw Problem(field: "threshold", reason: "a new rule needs a threshold") }
        var rule = existing ?? AlertRuleRecord(id: id, kind: kindValue, threshold: thresholdValue,
                                               lookback: AlertRuleRecord.defaults.first { $0.kind == kindValue }?.lookback ?? 0)
        rule.kind = kindValue
        rule.threshold = thresholdValue
        if let lookback { rule.lookback = lookback }
        if let severity { rule.severity = severity }
        if let scope { rule.scope = scope }
        if let muted { rule.muted = muted }
        if let problem = rule.problem { throw problem }
        return rule
    }

    /// Applies the change to the stored rule `id` (creating it when there is none) and stores it, audited; read,
    /// merge and write are one transaction, so two partial changes at once both take effect.
    @discardableResult
    public func save(id: String, store: any PlatformStore, actor: String) throws -> AlertRuleRecord {
        return try store.saveAlertRule(id: id, actor: actor) { existing in
            do { return .success(try self.applied(to: existing, id: id)) } catch let problem as FieldProblem { return .failure(problem) } catch {
                return .failure(FieldProblem(field: "rule", reason: String(describing: error)))
            }
        }
    }
}

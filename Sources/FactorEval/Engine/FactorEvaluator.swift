import FactorCore

/// Scores factors against forward returns over one universe, window and frequency.
///
/// Forward returns, their per-row order and the membership mask are computed once in `init` and shared by every
/// factor evaluated with this evaluator (alphalens recomputes them per factor).
public struct FactorEvaluator: Sendable {
    public let universe: EvaluationUniverse
    public let settings: EvaluationSettings
    let returns: [ForwardReturns]
    let oneBar: ForwardReturns
    /// True when a custom label replaces the forward returns (then no horizon's series is the one-bar return).
    let hasCustomLabel: Bool
    /// Per calendar row in the window: the universe's members, ascending by instrument index (empty elsewhere).
    let members: [[Int32]]
    /// Per horizon, per calendar row in the window: how many members have a return.
    let membersWithReturn: [[Int]]

    /// With `label`, that panel (a custom label expression's values) replaces the forward return; `settings.horizons`
    /// must then hold one value, the label's horizon (for the Newey-West lag). Decay still uses one-bar returns.
    public init(universe: EvaluationUniverse, settings: EvaluationSettings, label: Panel? = nil) throws(EvaluationError) {
        guard !settings.horizons.isEmpty, settings.horizons.allSatisfy({ $0 >= 1 }) else {
            throw .badSettings("horizons must be integers ≥ 1, got \(settings.horizons)")
        }
        guard settings.delay >= 0 else { throw .badSettings("the delay must be ≥ 0, got \(settings.delay)") }
        guard settings.quantiles >= 1 else { throw .badSettings("quantiles must be ≥ 1, got \(settings.quantiles)") }
        guard settings.minNames >= 2 else { throw .badSettings("min-names must be ≥ 2 (a correlation needs two names), got \(settings.minNames)") }
        guard settings.decayLags >= 0 else { throw .badSettings("decay lags must be ≥ 0") }
        guard !universe.window.isEmpty else { throw .emptyWindow }
        self.universe = universe
        self.settings = settings
        hasCustomLabel = label != nil
        if let label {
            guard settings.horizons.count == 1 else {
                throw .badSettings("a custom label is one series: give one horizon (its length in bars, for the Newey-West lag)")
            }
            guard label.instrumentCount == universe.instruments.count, label.length == universe.calendar.count else {
                throw .badSettings("the label panel does not match the universe")
            }
            returns = [ForwardReturns(label: label, horizon: settings.horizons[0], sortedRows: universe.window)]
        } else {
            returns = settings.horizons.map {
                ForwardReturns(universe: universe, horizon: $0, delay: settings.delay, sortedRows: universe.window)
            }
        }
        oneBar = ForwardReturns(universe: universe, horizon: 1, delay: settings.delay,
                                sortedRows: universe.window.lowerBound..<(universe.window.upperBound + settings.decayLags))
        var members = [[Int32]](repeating: [], count: universe.calendar.count)
        for t in universe.window {
            members[t] = (0..<universe.instruments.count).compactMap { universe.isMember($0, t) ? Int32($0) : nil }
        }
        self.members = members
        membersWithReturn = returns.map { r in
            (0..<universe.calendar.count).map { t in members[t].reduce(0) { $0 + (r.value(Int($1), t).isFinite ? 1 : 0) } }
        }
    }

    /// Evaluates one factor panel (over `universe.instruments` × `universe.calendar`).
    public func evaluate(name: String, expression: String? = nil, factor: Panel) -> FactorReport {
        var values = factor.values
        if !settings.preprocessing.isEmpty {
            values = Preprocessor(settings: settings.preprocessing, universe: universe).apply(values)
        }
        var run = FactorRun(evaluator: self, factor: values)
        run.execute()
        let horizons = returns.indices.map { run.horizonReport($0) }
        return FactorReport(name: name, expression: expression, horizons: horizons, decay: run.decayPoints())
    }
}

import FactorCore

/// Scores factors against forward returns over one universe, window and frequency.
///
/// Forward returns, each row's members and the returns' ranks among them are computed once in `init` and shared by
/// every factor evaluated with this evaluator (alphalens recomputes them per factor).
public struct FactorEvaluator: Sendable {
    public let universe: EvaluationUniverse
    public let settings: EvaluationSettings
    /// True when a custom label replaces the forward returns (then no horizon's series is the one-bar return).
    let hasCustomLabel: Bool
    /// The members of each evaluated row, as slots.
    let rows: MemberRows
    /// Per horizon: its returns ranked among each row's members.
    let returnRanks: [MemberReturnRanks]
    /// Per decay lag k = 0…K: one-bar returns k rows ahead ranked among each row's members; nil for lag 0 when the
    /// h = 1 Rank IC stands in for it (see `FactorRun.decayRow`).
    let decayRanks: [MemberReturnRanks?]
    /// The first decay lag with its own series (1 when the h = 1 horizon stands in for lag 0).
    let firstDecayLag: Int
    /// Per slot, every series' doubled rank side by side — the horizons', then the decay lags' from `firstDecayLag` —
    /// and every horizon's return: one gather per sorted member serves every series.
    let slotRanks: [Int32]
    let slotReturns: [Double]
    /// Horizons plus decay series.
    let seriesCount: Int
    /// Blocks of `SampleRankSums.lanes` series in a slot's record of `slotRanks` (zero-padded).
    let rankBlocks: Int

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
        }
        let returns = label.map { [ForwardReturns(label: $0, horizon: settings.horizons[0])] }
            ?? settings.horizons.map { ForwardReturns(universe: universe, horizon: $0, delay: settings.delay) }
        let oneBar = ForwardReturns(universe: universe, horizon: 1, delay: settings.delay)
        rows = MemberRows(universe)
        let lagZeroFromHorizon = label == nil && settings.horizons.contains(1)
        let firstLag = lagZeroFromHorizon ? 1 : 0
        let horizonCount = returns.count
        let series = returns.map { ($0, 0, true) } + (firstLag..<(settings.decayLags + 1)).map { (oneBar, $0, false) }
        let ranked = MemberReturnRanks.rank(series, rows: rows)
        returnRanks = Array(ranked[..<horizonCount])
        decayRanks = (firstLag == 1 ? [nil] : []) + ranked[horizonCount...].map { Optional($0) }
        firstDecayLag = firstLag
        seriesCount = ranked.count
        rankBlocks = (ranked.count + SampleRankSums.lanes - 1) / SampleRankSums.lanes
        let slotCount = rows.instruments.count, stride = rankBlocks * SampleRankSums.lanes
        var slotRanks = [Int32](repeating: 0, count: slotCount * stride)
        var slotReturns = [Double](repeating: .nan, count: slotCount * horizonCount)
        for (k, series) in ranked.enumerated() {
            for slot in 0..<slotCount { slotRanks[slot * stride + k] = series.doubledRank[slot] }
        }
        for h in 0..<horizonCount {
            for slot in 0..<slotCount { slotReturns[slot * horizonCount + h] = ranked[h].value[slot] }
        }
        self.slotRanks = slotRanks
        self.slotReturns = slotReturns
    }

    /// Evaluates one factor panel (over `universe.instruments` × `universe.calendar`).
    public func evaluate(name: String, expression: String? = nil, factor: Panel) -> FactorReport {
        evaluate([(name, expression, factor)])[0]
    }

    /// Evaluates several factors in lockstep, row by row, so that each row's returns and ranks are read from cache
    /// by every factor of the group instead of from memory by each.
    public func evaluate(_ factors: [(name: String, expression: String?, factor: Panel)]) -> [FactorReport] {
        let length = universe.calendar.count
        return score(factors.map { ($0.name, $0.expression) }, values: factors.map { f in
            let values = settings.preprocessing.isEmpty ? f.factor.values
                : Preprocessor(settings: settings.preprocessing, universe: universe).apply(f.factor.values)
            return SlotValues(values, rows: rows, length: length)
        })
    }

    /// Scores factors whose values are already laid out by slot (and preprocessed), in lockstep.
    func score(_ factors: [(name: String, expression: String?)], values: [SlotValues]) -> [FactorReport] {
        var runs = values.map { FactorRun(evaluator: self, factor: $0) }
        for (row, t) in rows.window.enumerated() {
            for k in runs.indices { runs[k].step(row: row, t: t) }
        }
        return zip(factors, runs).map { f, run in
            FactorReport(name: f.name, expression: f.expression, horizons: returnRanks.indices.map { run.horizonReport($0) },
                         decay: run.decayPoints())
        }
    }
}

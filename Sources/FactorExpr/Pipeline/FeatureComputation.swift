import FactorCore
import FactorData

/// One named expression to compute.
public struct NamedExpression: Sendable, Equatable {
    public var name: String
    public var text: String

    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }
}

/// An expression that failed to check, with its name.
public struct NamedExpressionError: Error, CustomStringConvertible, Sendable {
    public var name: String
    public var error: ExpressionError

    public var description: String { "expression \(name): \(error)" }
}

/// What to compute: expressions over a universe, window and frequency of a data source.
public struct FeatureRequest: Sendable {
    public var universe: UniverseSpec
    public var start: Timestamp?
    public var end: Timestamp?
    public var frequency: Frequency?
    public var expressions: [NamedExpression]
    public var threads: Int
    /// When true, a field the data lacks reads as NaN with a warning (Qlib's behaviour) instead of being an error.
    public var allowMissingFields: Bool

    public init(universe: UniverseSpec = .all, start: Timestamp? = nil, end: Timestamp? = nil,
                frequency: Frequency? = nil, expressions: [NamedExpression], threads: Int = Parallel.defaultThreads,
                allowMissingFields: Bool = false) {
        self.allowMissingFields = allowMissingFields
        self.universe = universe
        self.start = start
        self.end = end
        self.frequency = frequency
        self.expressions = expressions
        self.threads = threads
    }
}

/// Computed features: one panel per expression over the loaded instruments and rows, plus what selects the
/// output rows (members of the universe, inside [start, end], inside the instrument's history).
public struct FeatureResult: Sendable {
    public var names: [String]
    public var panels: [Panel]
    public var data: MarketData
    public var outputRows: Range<Int>
    public var plan: Plan
    public var warnings: [String]
    /// Seconds spent loading data and evaluating the plan.
    public var loadSeconds: Double
    public var evaluateSeconds: Double

    public init(names: [String], panels: [Panel], data: MarketData, outputRows: Range<Int>, plan: Plan,
                warnings: [String], loadSeconds: Double, evaluateSeconds: Double) {
        self.names = names
        self.panels = panels
        self.data = data
        self.outputRows = outputRows
        self.plan = plan
        self.warnings = warnings
        self.loadSeconds = loadSeconds
        self.evaluateSeconds = evaluateSeconds
    }

    /// The (instrument, row) pairs that are output rows, instruments sorted by code, rows ascending.
    public func outputCells() -> [(instrument: Int, row: Int)] {
        var cells: [(Int, Int)] = []
        for (i, rows) in outputRanges() { for t in rows { cells.append((i, t)) } }
        return cells
    }

    /// The output rows as runs: (instrument, rows), instruments sorted by code, runs ascending.
    public func outputRanges() -> [(instrument: Int, rows: Range<Int>)] { Self.outputRanges(data, outputRows) }

    /// The output rows of `data` as runs: members inside `outputRows` and their spans.
    public static func outputRanges(_ data: MarketData, _ outputRows: Range<Int>) -> [(instrument: Int, rows: Range<Int>)] {
        var runs: [(Int, Range<Int>)] = []
        let order = data.instruments.indices.sorted { data.instruments[$0] < data.instruments[$1] }
        for i in order {
            let span = data.spans[i]
            for r in data.membership.rows[i] {
                let lo = max(r.lowerBound, outputRows.lowerBound, span.lowerBound)
                let hi = min(r.upperBound, outputRows.upperBound, span.upperBound)
                if lo < hi { runs.append((i, lo..<hi)) }
            }
        }
        return runs
    }

    /// The number of output rows.
    public var outputCellCount: Int { outputRanges().reduce(0) { $0 + $1.rows.count } }
}

/// Checks, plans, loads and evaluates a batch of expressions: the engine behind `factorlab features`.
public enum FeatureComputation {
    /// Checks every expression against the source's fields; the first failure is thrown with its name.
    /// With `fields` nil any field is accepted.
    ///
    /// `lookingAhead`: the names of the expressions that may read future values (labels); nil lets every one (a
    /// feature set holds its labels). The others are factors: `Ref(x, -N)` in them is refused with its position.
    public static func compile(_ expressions: [NamedExpression], fields: [String]?,
                               lookingAhead: Set<String>? = nil) throws(NamedExpressionError) -> Plan {
        let checker = Checker(fields: fields.map { Set($0) }), factorChecker = checker.forFactors
        var named: [(name: String, expr: Expr)] = []
        for e in expressions {
            do {
                let allowed = lookingAhead.map { $0.contains(e.name) } ?? true
                named.append((e.name, try (allowed ? checker : factorChecker).check(e.text)))
            } catch {
                throw NamedExpressionError(name: e.name, error: error)
            }
        }
        return Plan.compile(named)
    }

    /// What each of the two concurrent preparation steps produced.
    private enum PreparationPart: Sendable {
        case fields(Result<[String], any Error>)
        case plan(Result<Plan, NamedExpressionError>)
    }

    /// Data loaded for a request, with absent fields added as NaN when the request allows it.
    public struct Prepared: Sendable {
        public var plan: Plan
        public var loaded: LoadedData
        public var loadSeconds: Double
    }

    /// Checks the expressions and loads exactly the fields, rows (with look-back and look-ahead) and auxiliary
    /// instruments their plan needs.
    public static func prepare(_ request: FeatureRequest, source: any MarketDataSource) throws -> Prepared {
        // The source opens its table (the column cache) on one core while the expressions are parsed on another; the
        // fields are then checked, and only an expression naming an absent field is parsed again, for its position.
        let opened = Parallel.map(2, threads: request.threads) { part -> PreparationPart in
            if part == 0 { return .fields(Result { try source.fieldNames() }) }
            return .plan(Result { () throws(NamedExpressionError) -> Plan in try compile(request.expressions, fields: nil) })
        }
        guard case .fields(let fieldsResult) = opened[0], case .plan(let planResult) = opened[1] else {
            preconditionFailure("the preparation parts come back in order")
        }
        let available = try fieldsResult.get()
        var plan = try planResult.get()
        if !request.allowMissingFields, !Set(plan.fields).isSubset(of: available) {
            plan = try compile(request.expressions, fields: available)
        }
        let missing = plan.fields.filter { !available.contains($0) }
        let clock = ContinuousClock()
        let loadStart = clock.now
        var loaded = try source.load(DataRequest(
            universe: request.universe, fields: plan.fields.filter { available.contains($0) }, start: request.start, end: request.end,
            frequency: request.frequency, lookbackRows: plan.lookback.rowsBefore,
            lookaheadRows: plan.lookback.rowsAfter, auxiliary: plan.auxiliaryInstruments, categories: plan.categories,
            periodFields: plan.periodFields))
        for field in missing {
            loaded.data.fields[field] = Panel(instrumentCount: loaded.data.instruments.count, length: loaded.data.calendar.count)
            loaded.warnings.append("the data has no field $\(field); it reads as NaN (Qlib's behaviour for an absent field)")
        }
        return Prepared(plan: plan, loaded: loaded, loadSeconds: (clock.now - loadStart).seconds)
    }

    /// Runs `request` on `source`, keeping every output panel.
    public static func run(_ request: FeatureRequest, source: any MarketDataSource) throws -> FeatureResult {
        let prepared = try prepare(request, source: source)
        let clock = ContinuousClock()
        let evalStart = clock.now
        let panels = try Evaluator(threads: request.threads).evaluate(prepared.plan, on: prepared.loaded.data)
        return FeatureResult(names: request.expressions.map(\.name), panels: panels, data: prepared.loaded.data,
                             outputRows: prepared.loaded.outputRows, plan: prepared.plan, warnings: prepared.loaded.warnings,
                             loadSeconds: prepared.loadSeconds, evaluateSeconds: (clock.now - evalStart).seconds)
    }

    /// Runs `request` on `source` and hands the outputs over chunk by chunk (ascending instrument code), each as a
    /// `FeatureResult` over the chunk's instruments; only the chunks in flight are held in memory. Returns the
    /// whole run's figures (its `panels` are empty).
    @discardableResult
    public static func stream(_ request: FeatureRequest, source: any MarketDataSource,
                              _ body: (FeatureResult) throws -> Void) throws -> FeatureResult {
        try stream(request, source: source, map: { $0 }, body)
    }

    /// Like `stream`, with `map` applied to each chunk on the thread that evaluated it (formatting or summarising
    /// output in parallel); `body` receives the mapped chunks in order, on the calling thread.
    @discardableResult
    public static func stream<Mapped: Sendable>(_ request: FeatureRequest, source: any MarketDataSource,
                                                map: @escaping @Sendable (FeatureResult) throws -> Mapped,
                                                _ body: (Mapped) throws -> Void) throws -> FeatureResult {
        let prepared = try prepare(request, source: source)
        let data = prepared.loaded.data
        let names = request.expressions.map(\.name)
        let clock = ContinuousClock()
        let evalStart = clock.now
        var consumed = Duration.zero
        var none: EvaluationProfile?
        let plan = prepared.plan, outputRows = prepared.loaded.outputRows
        try Evaluator(threads: request.threads).forEachChunk(plan, on: data, profile: &none, map: { chunk, chunkData in
            try map(FeatureResult(names: names, panels: chunk.panels, data: chunkData, outputRows: outputRows, plan: plan,
                                  warnings: [], loadSeconds: 0, evaluateSeconds: 0))
        }) { mapped in
            let started = clock.now
            try body(mapped)
            consumed += clock.now - started
        }
        return FeatureResult(names: names, panels: [], data: data, outputRows: prepared.loaded.outputRows,
                             plan: prepared.plan, warnings: prepared.loaded.warnings, loadSeconds: prepared.loadSeconds,
                             evaluateSeconds: (clock.now - evalStart - consumed).seconds)
    }
}

extension FeatureComputation {
    /// Runs `request` on `source` and reduces each chunk's outputs as they are computed, with the reducer `make` makes
    /// for the chunk's data and the output rows; `body` receives the reducers in instrument order. Returns the run's
    /// figures (its `panels` are empty).
    @discardableResult
    public static func reduce<R: OutputReducer>(_ request: FeatureRequest, source: any MarketDataSource,
                                                make: @escaping @Sendable (MarketData, Range<Int>) -> R,
                                                _ body: (R) throws -> Void) throws -> FeatureResult {
        let prepared = try prepare(request, source: source)
        let data = prepared.loaded.data, outputRows = prepared.loaded.outputRows
        let clock = ContinuousClock()
        let evalStart = clock.now
        var consumed = Duration.zero
        var none: EvaluationProfile?
        try Evaluator(threads: request.threads).reduceChunks(prepared.plan, on: data, profile: &none, make: { make($0, outputRows) }) { reducer in
            let started = clock.now
            try body(reducer)
            consumed += clock.now - started
        }
        return FeatureResult(names: request.expressions.map(\.name), panels: [], data: data, outputRows: outputRows,
                             plan: prepared.plan, warnings: prepared.loaded.warnings, loadSeconds: prepared.loadSeconds,
                             evaluateSeconds: (clock.now - evalStart - consumed).seconds)
    }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}

import Dispatch
import FactorCore
import FactorData
import FactorExpr
import Foundation

/// What `factorlab evaluate` evaluates.
public enum FactorInput: Sendable {
    /// Expressions computed by FactorLab on the data.
    case expressions([NamedExpression])
    /// Values computed elsewhere (a CSV `instrument,datetime,<factors…>`).
    case values(path: String)
    /// Values another component computes from the loaded data (Python factors).
    case computed(ComputedFactors)
}

/// Factors computed outside the expression engine from the data FactorLab loads for them.
public struct ComputedFactors: Sendable {
    public var names: [String]
    /// Fields to load, lower case.
    public var fields: [String]
    /// Rows loaded before the window: the largest look-back the factors declare.
    public var lookbackRows: Int
    /// Each factor's own look-back: it is computed on the rows from that far before the window (so its values do not
    /// depend on the factors it is evaluated with), NaN before them. Nil: every factor sees all loaded rows.
    public var lookbacks: [Int]?
    /// Computes factor `index` on the loaded data (instruments × rows); nil when it failed, which the provider
    /// records (the other factors are still scored).
    public var compute: @Sendable (MarketData, Int) -> Panel?

    public init(names: [String], fields: [String], lookbackRows: Int, lookbacks: [Int]? = nil,
                compute: @escaping @Sendable (MarketData, Int) -> Panel?) {
        self.names = names
        self.fields = fields
        self.lookbackRows = lookbackRows
        self.lookbacks = lookbacks
        self.compute = compute
    }

    /// Factor `k` on its own rows of `data` (window `window`), laid back on all of them with NaN before.
    func values(_ k: Int, data: MarketData, window: Range<Int>) -> Panel? {
        let first = lookbacks.map { max(0, window.lowerBound - $0[k]) } ?? 0
        guard first > 0 else { return compute(data, k) }
        guard let own = compute(data.barsOfRows(first..<data.calendar.count), k) else { return nil }
        var panel = Panel(instrumentCount: data.instruments.count, length: data.calendar.count)
        for i in 0..<data.instruments.count {
            for t in first..<data.calendar.count { panel[i, t] = own[i, t - first] }
        }
        return panel
    }
}

/// One evaluation: data slice, factors and settings.
public struct EvaluationRequest: Sendable {
    public var universe: UniverseSpec
    public var start: Timestamp?
    public var end: Timestamp?
    public var frequency: Frequency?
    public var factors: FactorInput
    public var settings: EvaluationSettings
    /// Industry CSV for neutralisation and IC by industry.
    public var industryFile: String?
    public var threads: Int
    public var allowMissingFields: Bool
    /// A custom label expression replacing the forward return (e.g. `Ref($close, -2)/Ref($close, -1) - 1`).
    public var label: String?

    public init(universe: UniverseSpec = .all, start: Timestamp? = nil, end: Timestamp? = nil, frequency: Frequency? = nil,
                factors: FactorInput, settings: EvaluationSettings = EvaluationSettings(), industryFile: String? = nil,
                threads: Int = Parallel.defaultThreads, allowMissingFields: Bool = false, label: String? = nil) {
        self.label = label
        self.universe = universe
        self.start = start
        self.end = end
        self.frequency = frequency
        self.factors = factors
        self.settings = settings
        self.industryFile = industryFile
        self.threads = threads
        self.allowMissingFields = allowMissingFields
    }
}

/// Loads data, computes (or reads) factor values, and scores every factor: the engine of `factorlab evaluate`.
public enum EvaluationRun {
    /// Expressions are computed in batches of this many so that only a batch's panels are in memory at once.
    public static let batchSize = 32

    /// The expressions evaluated beside the factors: the custom label (`--label`, the only one that may read future
    /// values) and the market value for size neutralization (`--size`, which, like a factor, may not).
    static func sideExpressions(_ request: EvaluationRequest) -> [NamedExpression] {
        var side: [NamedExpression] = []
        if let label = request.label { side.append(NamedExpression(name: "--label", text: label)) }
        if let size = request.settings.preprocessing.sizeExpression { side.append(NamedExpression(name: "--size", text: size)) }
        return side
    }

    /// Evaluates the side expressions: the label panel, and log market value (NaN where the size is not positive).
    static func sideValues(_ side: [NamedExpression], plan: Plan?, data: MarketData, threads: Int) throws -> (label: Panel?, logSize: [Double]?) {
        guard let plan else { return (nil, nil) }
        let panels = try Evaluator(threads: threads).evaluate(plan, on: data)
        let label = side.firstIndex { $0.name == "--label" }.map { panels[$0] }
        let logSize = side.firstIndex { $0.name == "--size" }.map { k in panels[k].values.map { $0 > 0 && $0.isFinite ? log($0) : .nan } }
        return (label, logSize)
    }

    /// Runs `request` on `source`; `progress(done, total)` is called as factors finish.
    public static func run(_ request: EvaluationRequest, source: any MarketDataSource,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> (report: EvaluationReport, warnings: [String], timings: EvaluationTimings) {
        let clock = ContinuousClock()
        var timings = EvaluationTimings()
        func timed<T>(_ phase: WritableKeyPath<EvaluationTimings, Double>, _ body: () throws -> T) rethrows -> T {
            let started = clock.now
            defer { timings[keyPath: phase] += (clock.now - started).seconds }
            return try body()
        }
        var settings = request.settings
        let frequency = request.frequency ?? source.baseFrequency
        if settings.periodsPerYear == EvaluationSettings().periodsPerYear {
            settings.periodsPerYear = periodsPerYear(frequency, source: source)
        }
        let industries = try request.industryFile.map { try IndustryFile.read($0) } ?? [:]
        if settings.preprocessing.neutralizeIndustry && industries.isEmpty {
            throw EvaluationError.badSettings("--neutralize industry needs an industry file (--industry FILE)")
        }
        var warnings: [String] = []
        var reports: [FactorReport] = []
        switch request.factors {
        case .values(let path):
            let available = try source.fieldNames()
            let side = sideExpressions(request)
            let sidePlan = try side.isEmpty ? nil : FeatureComputation.compile(side, fields: available, lookingAhead: ["--label"])
            let loaded = try timed(\.load) { try source.load(DataRequest(universe: request.universe,
                                                     fields: Array(Set(["close"] + (sidePlan?.fields ?? []))).sorted(),
                                                     start: request.start, end: request.end, frequency: request.frequency,
                                                     // A label or size needing the whole history (nil) gets it; none needs none.
                                                     lookbackRows: sidePlan.map { $0.lookback.rowsBefore } ?? 0,
                                                     lookaheadRows: max(settings.lookaheadRows, sidePlan?.lookback.rowsAfter ?? 0),
                                                     auxiliary: sidePlan?.auxiliaryInstruments ?? [],
                                                     categories: sidePlan?.categories ?? [], periodFields: sidePlan?.periodFields ?? [])) }
            warnings += loaded.warnings
            var universe = try EvaluationUniverse(data: loaded.data, window: loaded.outputRows, industries: industries)
            let (label, logSize) = try timed(\.compute) { try sideValues(side, plan: sidePlan, data: loaded.data, threads: request.threads) }
            universe.logSize = logSize
            let evaluator = try timed(\.shared) { try FactorEvaluator(universe: universe, settings: settings, label: label) }
            let values = try timed(\.load) { try ValuesFile.read(path, instruments: loaded.data.instruments, calendar: loaded.data.calendar) }
            if values.skipped > 0 {
                warnings.append("\(values.skipped) rows of \(path) name instruments outside the universe and were skipped")
            }
            reports = timed(\.evaluate) {
                evaluateAll(evaluator, names: values.names, expressions: values.names.map { _ in nil },
                            panels: values.panels, threads: request.threads)
            }
            progress(values.names.count, values.names.count)
            return (report(settings, request, frequency, universe, reports), warnings, timings)
        case .computed(let factors):
            let available = try source.fieldNames()
            guard available.contains("close") else { throw EvaluationError.missingClose(available: available) }
            for field in factors.fields where !available.contains(field) {
                throw EvaluationError.badSettings("the data has no field \(field) (it has \(available.joined(separator: ", ")))")
            }
            let side = sideExpressions(request)
            let sidePlan = try side.isEmpty ? nil : FeatureComputation.compile(side, fields: available, lookingAhead: ["--label"])
            let before = sidePlan.map { $0.lookback.rowsBefore.map { max($0, factors.lookbackRows) } } ?? factors.lookbackRows
            let loaded = try timed(\.load) { try source.load(DataRequest(universe: request.universe,
                                                     fields: Array(Set(["close"] + factors.fields + (sidePlan?.fields ?? []))).sorted(),
                                                     start: request.start, end: request.end, frequency: request.frequency,
                                                     lookbackRows: before,
                                                     lookaheadRows: max(settings.lookaheadRows, sidePlan?.lookback.rowsAfter ?? 0),
                                                     auxiliary: sidePlan?.auxiliaryInstruments ?? [],
                                                     categories: sidePlan?.categories ?? [], periodFields: sidePlan?.periodFields ?? [])) }
            warnings += loaded.warnings
            var universe = try EvaluationUniverse(data: loaded.data, window: loaded.outputRows, industries: industries)
            let (label, logSize) = try timed(\.compute) { try sideValues(side, plan: sidePlan, data: loaded.data, threads: request.threads) }
            universe.logSize = logSize
            let evaluator = try timed(\.shared) { try FactorEvaluator(universe: universe, settings: settings, label: label) }
            var names: [String] = [], panels: [Panel] = []
            for (k, name) in factors.names.enumerated() {
                if let panel = timed(\.compute, { factors.values(k, data: loaded.data, window: loaded.outputRows) }) {
                    names.append(name)
                    panels.append(panel)
                }
                progress(k + 1, factors.names.count)
            }
            reports = timed(\.evaluate) {
                evaluateAll(evaluator, names: names, expressions: names.map { _ in nil }, panels: panels, threads: request.threads)
            }
            return (report(settings, request, frequency, universe, reports), warnings, timings)
        case .expressions(let expressions):
            let available = try source.fieldNames()
            let side = sideExpressions(request)
            let plan = try FeatureComputation.compile(expressions + side, fields: request.allowMissingFields ? nil : available,
                                                      lookingAhead: ["--label"])
            guard available.contains("close") else { throw EvaluationError.missingClose(available: available) }
            let fields = Array(Set(plan.fields + ["close"]).filter { available.contains($0) }).sorted()
            var loaded = try timed(\.load) {
                try source.load(DataRequest(universe: request.universe, fields: fields, start: request.start,
                                            end: request.end, frequency: request.frequency,
                                            lookbackRows: plan.lookback.rowsBefore,
                                            lookaheadRows: max(plan.lookback.rowsAfter, settings.lookaheadRows),
                                            auxiliary: plan.auxiliaryInstruments, categories: plan.categories,
                                            periodFields: plan.periodFields))
            }
            for field in plan.fields where !available.contains(field) {
                loaded.data.fields[field] = Panel(instrumentCount: loaded.data.instruments.count, length: loaded.data.calendar.count)
                warnings.append("the data has no field $\(field); it reads as NaN (Qlib's behaviour for an absent field)")
            }
            warnings += loaded.warnings
            var universe = try EvaluationUniverse(data: loaded.data, window: loaded.outputRows, industries: industries)
            let (label, logSize) = try timed(\.compute) {
                try sideValues(side, plan: side.isEmpty ? nil : FeatureComputation.compile(side, fields: nil),
                               data: loaded.data, threads: request.threads)
            }
            universe.logSize = logSize
            let evaluator = try timed(\.shared) { try FactorEvaluator(universe: universe, settings: settings, label: label) }
            // Without preprocessing (which needs whole panels), a batch's outputs stream from the expression evaluator
            // chunk by chunk straight into the slot layout scoring reads, in buffers reused from batch to batch.
            let streamed = settings.preprocessing.isEmpty
            let buffers = streamed ? (0..<min(batchSize, expressions.count)).map { _ in SlotValues(slots: evaluator.rows.instruments.count) } : []
            var start = 0
            while start < expressions.count {
                let batch = Array(expressions[start..<min(expressions.count, start + batchSize)])
                let batchPlan = try FeatureComputation.compile(batch, fields: nil)
                let names = batch.map(\.name), texts = batch.map(\.text)
                if streamed {
                    let outputs = Array(buffers[..<batch.count])
                    try timed(\.compute) {
                        var none: EvaluationProfile?
                        try Evaluator(threads: request.threads).forEachChunk(batchPlan, on: loaded.data, profile: &none,
                                                                             map: { chunk, _ in evaluator.place(chunk, into: outputs) }) { _ in }
                    }
                    reports += timed(\.evaluate) {
                        scoreAll(evaluator, names: names, expressions: texts, threads: request.threads) { outputs[$0] }
                    }
                } else {
                    let panels = try timed(\.compute) { try Evaluator(threads: request.threads).evaluate(batchPlan, on: loaded.data) }
                    reports += timed(\.evaluate) {
                        evaluateAll(evaluator, names: names, expressions: texts, panels: panels, threads: request.threads)
                    }
                }
                start += batchSize
                progress(min(start, expressions.count), expressions.count)
            }
            return (report(settings, request, frequency, universe, reports), warnings, timings)
        }
    }

    /// Factors evaluated in lockstep by one thread (see `FactorEvaluator.evaluate(_:)`): enough to share each row's
    /// returns in cache, few enough for their scratch to stay there too.
    static let lockstepGroup = 8

    /// Scores `panels` (preprocessing them as the settings ask) on up to `threads` threads, a group at a time.
    static func evaluateAll(_ evaluator: FactorEvaluator, names: [String], expressions: [String?], panels: [Panel],
                            threads: Int) -> [FactorReport] {
        inGroups(names.count, threads: threads) { group in
            evaluator.evaluate(group.map { (names[$0], expressions[$0], panels[$0]) })
        }
    }

    /// Scores factors whose values are laid out by slot already.
    static func scoreAll(_ evaluator: FactorEvaluator, names: [String], expressions: [String?], threads: Int,
                         values: @Sendable (Int) -> SlotValues) -> [FactorReport] {
        inGroups(names.count, threads: threads) { group in
            evaluator.score(group.map { (names[$0], expressions[$0]) }, values: group.map(values))
        }
    }

    /// `body` on groups of `lockstepGroup` consecutive factors, on up to `threads` threads; the reports in order.
    private static func inGroups(_ count: Int, threads: Int, _ body: @Sendable (Range<Int>) -> [FactorReport]) -> [FactorReport] {
        let groups = stride(from: 0, to: count, by: lockstepGroup).map { $0..<min(count, $0 + lockstepGroup) }
        return Parallel.map(groups.count, threads: threads) { body(groups[$0]) }.flatMap { $0 }
    }

    static func report(_ settings: EvaluationSettings, _ request: EvaluationRequest, _ frequency: Frequency,
                       _ universe: EvaluationUniverse, _ factors: [FactorReport]) -> EvaluationReport {
        EvaluationReport(settings: settings, universe: request.universe.description, frequency: frequency.description,
                         start: universe.calendar.label(universe.window.lowerBound),
                         end: universe.calendar.label(universe.window.upperBound - 1),
                         instruments: universe.instruments.count, factors: factors)
    }

    /// 252 daily, 52 weekly, 12 monthly; intraday 252 × the bars of a full trading day in the data.
    static func periodsPerYear(_ frequency: Frequency, source: any MarketDataSource) -> Double {
        guard frequency.isIntraday, let calendar = try? source.calendar(frequency: frequency) else {
            return frequency.periodsPerYear()
        }
        var perDay: [Int: Int] = [:]
        for t in calendar.times { perDay[TimeFormat.dayNumber(t), default: 0] += 1 }
        return frequency.periodsPerYear(barsPerDay: perDay.values.max())
    }
}

/// Where the seconds of one evaluation went.
public struct EvaluationTimings: Sendable {
    /// Reading data (and values files).
    public var load = 0.0
    /// Computing factor panels (and a label or size expression).
    public var compute = 0.0
    /// Forward returns and their ranks among each row's members, shared by every factor.
    public var shared = 0.0
    /// Scoring the factors.
    public var evaluate = 0.0

    public init() {}

    public var total: Double { load + compute + shared + evaluate }
}

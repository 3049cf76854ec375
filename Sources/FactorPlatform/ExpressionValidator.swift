import FactorCore
import FactorData
import FactorExpr
import FactorPython
import Foundation

/// Validates expressions before they enter the registry: parse and check against the data's fields, then a
/// warm-up run on a small sample of the configured data, measuring the NaN and infinity ratios.
public final class ExpressionValidator: Sendable {
    /// What a successful validation found.
    public struct Validation: Sendable {
        public var canonical: String
        public var hash: String
        public var nanRatio: Double
        public var infRatio: Double
        public var cells: Int
    }

    let source: any MarketDataSource
    let universe: UniverseSpec
    let start: Timestamp?
    public let sampleDescription: String
    /// Runs the warm-up of Python factors (started on first use).
    public let python: PythonFactorRunner

    /// Samples up to `instruments` instruments over the last `rows` calendar rows of `source` (values use the
    /// history before them as their look-back).
    public init(source: any MarketDataSource, instruments: Int = 30, rows: Int = 250,
                python: PythonFactorRunner = PythonFactorRunner()) throws {
        self.source = source
        self.python = python
        let codes = try source.instrumentCodes().sorted()
        let chosen = Array(codes.prefix(instruments))
        universe = .codes(chosen)
        let calendar = try source.calendar(frequency: nil)
        start = calendar.count > rows ? calendar.times[calendar.count - rows] : nil
        sampleDescription = "\(chosen.count) instruments × last \(min(rows, calendar.count)) rows of \(source.directory)"
    }

    /// The configured data (`--data`, `QLIB_DATA_PATH`, `FACTOR_DATA_PATH`, `./stockdata`), or else FactorLab's
    /// synthetic demo market generated in the cache folder.
    public static func forConfiguredData(explicitPath: String? = nil) throws -> ExpressionValidator {
        if let location = try? DataLocator.resolve(explicitPath: explicitPath, kind: nil) {
            return try ExpressionValidator(source: DataSources.open(directory: location.directory, kind: location.kind))
        }
        if let explicitPath { _ = try DataLocator.resolve(explicitPath: explicitPath, kind: nil) }
        let directory = ColumnCacheLocation.directory + "/synthetic-demo"
        if !FileManager.default.fileExists(atPath: directory + "/calendars/day.txt") {
            try SyntheticMarket.write(to: directory)
        }
        return try ExpressionValidator(source: DataSources.open(directory: directory, kind: .csv))
    }

    /// Checks and warm-runs `text`; throws `PlatformError` naming `code`.
    public func validate(code: String, expression text: String) throws -> Validation {
        try validate([(code, text)])[0].get()
    }

    /// Validates several expressions with one load of the sample and one plan; each gets its own outcome.
    public func validate(_ items: [(code: String, expression: String)]) throws -> [Result<Validation, PlatformError>] {
        let fields = try source.fieldNames()
        let checker = Checker(fields: Set(fields)).forFactors
        var outcomes: [Result<Validation, PlatformError>?] = Array(repeating: nil, count: items.count)
        var checked: [(index: Int, expr: Expr, info: (String, String))] = []
        for (k, item) in items.enumerated() {
            do {
                let expr = CanonicalForm.normalize(try checker.check(item.expression))
                checked.append((k, expr, (CanonicalForm.text(expr), CanonicalForm.hash(expr))))
            } catch {
                outcomes[k] = .failure(.invalidExpression(code: item.code, error))
            }
        }
        if !checked.isEmpty {
            let plan = Plan.compile(checked.map { ("\($0.index)", $0.expr) })
            do {
                let data = try sample(for: plan)
                let panels = try Evaluator().evaluate(plan, on: data.data)
                for (j, c) in checked.enumerated() {
                    var nan = 0, inf = 0, cells = 0
                    let panel = panels[j]
                    for (i, span) in data.data.spans.enumerated() {
                        for t in max(span.lowerBound, data.outputRows.lowerBound)..<min(span.upperBound, data.outputRows.upperBound) {
                            cells += 1
                            let v = panel[i, t]
                            if v.isNaN { nan += 1 } else if v.isInfinite { inf += 1 }
                        }
                    }
                    let code = items[c.index].code
                    if cells == 0 || nan + inf == cells {
                        outcomes[c.index] = .failure(.emptyOnSample(code: code, cells: cells))
                    } else {
                        outcomes[c.index] = .success(Validation(canonical: c.info.0, hash: c.info.1, nanRatio: Double(nan) / Double(cells),
                                                                infRatio: Double(inf) / Double(cells), cells: cells))
                    }
                }
            } catch {
                for c in checked { outcomes[c.index] = .failure(.warmupFailed(code: items[c.index].code, reason: "\(error)")) }
            }
        }
        return outcomes.map { $0 ?? .failure(.warmupFailed(code: "?", reason: "not validated")) }
    }

    /// The sample with what the plan reads besides bars: benchmark series, categorical fields, point-in-time reports.
    private func sample(for plan: Plan) throws -> LoadedData {
        try source.load(DataRequest(universe: universe, fields: nil, start: start, lookbackRows: plan.lookback.rowsBefore,
                                    lookaheadRows: plan.lookback.rowsAfter, auxiliary: plan.auxiliaryInstruments,
                                    categories: plan.categories, periodFields: plan.periodFields))
    }
}

/// Where FactorLab keeps generated and cached files.
public enum ColumnCacheLocation {
    public static var directory: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["FACTOR_CACHE_DIR"] { return dir }
        if let xdg = env["XDG_CACHE_HOME"] { return xdg + "/factorlab" }
        return NSHomeDirectory() + "/.cache/factorlab"
    }
}

/// Checks a `SyntaxTree` against the operator catalog and the data's fields before anything runs:
/// known operators and fields, arity, argument kinds, literal windows.
public struct Checker: Sendable {
    /// Lower-case field names the data offers; nil accepts any field.
    public var fields: Set<String>?
    /// Upper-case instrument codes `ChangeInstrument` may name; nil accepts any.
    public var instruments: Set<String>?

    /// Whether `Ref(x, -N)` (a value N bars later) is accepted: true for labels and feature sets, false for factors,
    /// which must not see the future they are scored against.
    public var allowsFutureValues: Bool

    /// Inside `P(…)`: the expression runs over reported periods, so it reads `$$` fields only and time-series
    /// operators only, and never a later period.
    var overPeriods = false

    public init(fields: Set<String>? = nil, instruments: Set<String>? = nil, allowsFutureValues: Bool = true) {
        self.fields = fields.map { Set($0.map { $0.lowercased() }) }
        self.instruments = instruments.map { Set($0.map { $0.uppercased() }) }
        self.allowsFutureValues = allowsFutureValues
    }

    /// The checker for factor expressions: like this one, but refusing future values.
    public var forFactors: Checker {
        var c = self
        c.allowsFutureValues = false
        return c
    }

    /// Parses and checks `text`.
    public func check(_ text: String) throws(ExpressionError) -> Expr {
        let tree = try Parser.parse(text)
        do throws(ExpressionError) {
            return try check(tree)
        } catch {
            throw error.with(expression: text)
        }
    }

    /// Checks a parsed tree.
    public func check(_ tree: SyntaxTree) throws(ExpressionError) -> Expr {
        switch tree.kind {
        case .number(let v, _):
            return .constant(v)
        case .field(let name) where name.hasPrefix("$"):
            let lower = name.lowercased()
            let bare = String(lower.dropFirst())
            guard overPeriods else {
                throw ExpressionError(.argument, "$\(name) is a point-in-time field: read it through P($\(lower)), or PRef($\(lower), \(bare.hasSuffix("_a") ? "2018" : "201803")) for one period",
                                      position: tree.position, length: tree.length)
            }
            guard bare.hasSuffix("_q") || bare.hasSuffix("_a") else {
                throw ExpressionError(.unknownField, "$\(name) must end in _q (quarterly) or _a (annual), as Qlib's point-in-time fields do",
                                      position: tree.position, length: tree.length)
            }
            return .field(lower)
        case .field(let name) where overPeriods:
            throw ExpressionError(.argument, "$\(name) is a bar field; inside P(…) the expression runs over reported periods and reads $$ fields only (e.g. P($$roe_q))",
                                  position: tree.position, length: tree.length)
        case .field(let name):
            let lower = name.lowercased()
            if CategoryField.names.contains(lower) {
                throw ExpressionError(.argument, "$\(name) is categorical: it can only name the groups of a group operator, as in GroupRank($close, $\(lower))",
                                      position: tree.position, length: tree.length)
            }
            if let days = Self.averageDailyVolumeDays(lower), fields.map({ !$0.contains(lower) && $0.contains("volume") }) ?? true {
                // The paper's adv{d}: the average daily volume of the last d days, under the same strict window.
                return .apply(.worldQuant(.mean, days), [.field("volume")])
            }
            if let fields, !fields.contains(lower) {
                let known = fields.sorted()
                throw ExpressionError(.unknownField, "unknown field $\(name)", position: tree.position, length: tree.length,
                                      suggestion: Suggestion.closest(to: lower, in: known).map { "$" + $0 },
                                      note: "the data has \(known.map { "$" + $0 }.joined(separator: " "))")
            }
            return .field(lower)
        case .string(let s):
            throw ExpressionError(.argument, "a string ('\(s)') can only name an instrument, as in ChangeInstrument('SH000300', $close)",
                                  position: tree.position, length: tree.length)
        case .call(let name):
            return try checkCall(name, tree)
        }
    }

    private func checkCall(_ name: String, _ tree: SyntaxTree) throws(ExpressionError) -> Expr {
        guard let spec = OperatorCatalog.byName[name] else {
            let suggestion = Suggestion.closest(to: name, in: OperatorCatalog.all.map(\.name))
            throw ExpressionError(.unknownOperator, "unknown operator '\(name)'", position: tree.position,
                                  length: tree.length, suggestion: suggestion)
        }
        if overPeriods, ["cross-section", "group", "instrument", "period", "point-in-time"].contains(spec.family) {
            throw ExpressionError(.argument, "\(name) cannot run inside P(…): over reported periods only element-wise and time-series operators apply",
                                  position: tree.position, length: tree.length)
        }
        let args = tree.arguments
        guard args.count == spec.parameters.count else {
            let plural = spec.parameters.count == 1 ? "" : "s"
            throw ExpressionError(.arity, "\(name) takes \(spec.parameters.count) argument\(plural), \(spec.signature), but got \(args.count)",
                                  position: tree.position, length: tree.length)
        }
        var series: [Expr] = []
        var window: Window?
        var shift = 0
        var probability = 0.0
        var instrument = ""
        var category = ""
        var reportPeriod = 0
        var periodFieldName = ""
        var period = PeriodResample.Period.day
        var aggregation = PeriodResample.Aggregation.last
        for (param, arg) in zip(spec.parameters, args) {
            switch param {
            case .series where name == "P":
                var inner = self
                inner.overPeriods = true
                let e = try inner.check(arg)
                guard e.readsPeriodField else {
                    throw ExpressionError(.argument, "P(…) computes over reported periods: its expression must read a point-in-time field such as $$roe_q",
                                          position: arg.position, length: arg.length)
                }
                let kinds = Set(e.fieldNames.map { $0.hasSuffix("_q") })
                guard kinds.count == 1 else {
                    throw ExpressionError(.argument, "P(…) mixes quarterly (_q) and annual (_a) fields, whose periods do not line up: use one kind per P",
                                          position: arg.position, length: arg.length)
                }
                series.append(e)
            case .series:
                series.append(try check(arg))
            case .periodField:
                guard case .field(let f) = arg.kind, f.hasPrefix("$") else {
                    throw ExpressionError(.argument, "\(name) takes a point-in-time field first, as in \(name)($$roe_q, 201803)",
                                          position: arg.position, length: arg.length)
                }
                var inner = self
                inner.overPeriods = true
                guard case .field(let lower) = try inner.check(arg) else { preconditionFailure("a field checks to a field") }
                periodFieldName = lower
                series.append(.field(lower))
            case .reportPeriod:
                let quarterly = !periodFieldName.hasSuffix("_a")
                let example = quarterly ? "201803 (2018's third quarter)" : "2018"
                guard case .number(let v, let isInteger) = arg.kind, isInteger, let p = Int(exactly: v) else {
                    throw literalError(arg, "the period of \(name) must be an integer literal: \(example)")
                }
                let valid = quarterly ? (190001...209904).contains(p) && (1...4).contains(p % 100) : (1900...2099).contains(p)
                guard valid else {
                    throw ExpressionError(.argument, "\(p) is not a \(quarterly ? "quarter" : "year") of \(periodFieldName.dropFirst()): write \(example)",
                                          position: arg.position, length: arg.length)
                }
                reportPeriod = p
            case .boolean:
                let e = try check(arg)
                guard e.isBoolean else {
                    throw ExpressionError(.argument, "\(name) expects a boolean (a comparison such as $close > $open, or And/Or/Not)",
                                          position: arg.position, length: arg.length)
                }
                series.append(e)
            case .window(let fractional):
                window = try windowLiteral(arg, of: name, fractional: fractional)
            case .shift:
                guard case .number(let v, let isInteger) = arg.kind, isInteger, let n = Int(exactly: v) else {
                    throw literalError(arg, "the shift of \(name) must be an integer literal, as in \(name)($close, 1)")
                }
                if n < 0 && overPeriods {
                    throw ExpressionError(.lookAhead, "\(name)(…, \(n)) inside P(…) reads a later period, which no date can know (Qlib refuses it too)",
                                          position: arg.position, length: arg.length)
                }
                if n < 0 && !allowsFutureValues {
                    throw ExpressionError(.lookAhead, "\(name)(…, \(n)) reads the value \(-n) bar\(n == -1 ? "" : "s") ahead: a factor may use only current and past values",
                                          position: arg.position, length: arg.length,
                                          note: "future values belong in a label, such as evaluate --label")
                }
                shift = n
            case .probability:
                guard case .number(let v, _) = arg.kind else {
                    throw literalError(arg, "q of \(name) must be a number literal in [0, 1], as in \(name)($close, 20, 0.8)")
                }
                guard v >= 0 && v <= 1 else {
                    throw ExpressionError(.argument, "q of \(name) must lie in [0, 1], got \(Format.number(v))",
                                          position: arg.position, length: arg.length)
                }
                probability = v
            case .instrument:
                guard case .string(let code) = arg.kind else {
                    throw literalError(arg, name == "Mask" ? "Mask takes an instrument code in quotes second, as in Mask($close, 'SH000300')"
                                                           : "\(name) takes an instrument code in quotes first, as in \(name)('SH000300', $close)")
                }
                let upper = code.uppercased()
                if let instruments, !instruments.contains(upper) {
                    throw ExpressionError(.unknownInstrument, "unknown instrument '\(code)'; available: \(instruments.sorted().prefix(20).joined(separator: ", "))",
                                          position: arg.position, length: arg.length,
                                          suggestion: Suggestion.closest(to: upper, in: Array(instruments)))
                }
                instrument = upper
            case .category:
                guard case .field(let field) = arg.kind, CategoryField.names.contains(field.lowercased()) else {
                    throw ExpressionError(.argument, "the groups of \(name) must be a categorical field: \(CategoryField.names.sorted().map { "$" + $0 }.joined(separator: " or "))",
                                          position: arg.position, length: arg.length)
                }
                category = field.lowercased()
            case .period:
                let periods = "'1d' (day), 'W' (week), 'M' (month), 'Q' (quarter) or 'Y' (year)"
                guard case .string(let text) = arg.kind else {
                    throw literalError(arg, "the period of \(name) must be a string: \(periods), as in \(name)($close, 'W', 'last')")
                }
                guard let p = PeriodResample.Period(text: text) else {
                    throw ExpressionError(.argument, "unknown period '\(text)' for \(name): use \(periods)",
                                          position: arg.position, length: arg.length)
                }
                period = p
            case .aggregation:
                let names = PeriodResample.Aggregation.allCases.map { "'\($0.rawValue)'" }.joined(separator: " ")
                guard case .string(let text) = arg.kind else {
                    throw literalError(arg, "the aggregation of \(name) must be a string, one of \(names)")
                }
                guard let a = PeriodResample.Aggregation(text: text) else {
                    throw ExpressionError(.argument, "unknown aggregation '\(text)' for \(name): use one of \(names)",
                                          position: arg.position, length: arg.length,
                                          suggestion: Suggestion.closest(to: text.lowercased(), in: PeriodResample.Aggregation.allCases.map(\.rawValue)).map { "'\($0)'" })
                }
                aggregation = a
            }
        }
        if name == "SignedPower" {
            // Written out, so that it is one factor with the same formula spelt with Sign, Abs and Power.
            return .apply(.binary(.mul), [.apply(.unary(.sign), [series[0]]),
                                          .apply(.binary(.power), [.apply(.unary(.abs), [series[0]]), series[1]])])
        }
        if name == "WQScale" { return .apply(.crossSection(.scale), series) }
        let op: Operation
        switch spec.family {
        case "element-wise", "comparison", "logic":
            if name == "If" { op = .ifThenElse }
            else if let u = UnaryOperator(rawValue: name) { op = .unary(u) }
            else if let b = BinaryOperator(rawValue: name) { op = .binary(b) }
            else { throw ExpressionError(.unknownOperator, "operator '\(name)' has no implementation", position: tree.position) }
        case "group":
            guard let g = GroupOperator(rawValue: name) else {
                throw ExpressionError(.unknownOperator, "operator '\(name)' has no implementation", position: tree.position)
            }
            op = .group(g, category)
        case "cross-section" where name == "CSNeutralize":
            op = .csNeutralize
        case "cross-section":
            guard let c = CrossSectionOperator(rawValue: name) else {
                throw ExpressionError(.unknownOperator, "operator '\(name)' has no implementation", position: tree.position)
            }
            op = .crossSection(c)
        case "pair":
            guard let p = PairOperator(rawValue: name), let window else {
                throw ExpressionError(.unknownOperator, "operator '\(name)' has no implementation", position: tree.position)
            }
            op = .pair(p, window)
        case "instrument":
            op = .changeInstrument(instrument)
        case "period":
            op = .resample(PeriodResample(period: period, aggregation: aggregation))
        case "point-in-time":
            op = name == "P" ? .pointInTime : .periodRef(reportPeriod)
        case "worldquant":
            guard let w = WorldQuantOperator(rawValue: name) else {
                throw ExpressionError(.unknownOperator, "operator '\(name)' has no implementation", position: tree.position)
            }
            var d = 0
            if w.hasWindow {
                guard case .rows(let n)? = window else {
                    throw ExpressionError(.argument, "the window of \(name) must be an integer N ≥ 1 (its windows are strict: N rows, each with a value)",
                                          position: args[args.count - 1].position, length: args[args.count - 1].length)
                }
                d = n
            }
            op = .worldQuant(w, d)
        default:
            switch name {
            case "Ref": op = .ref(shift)
            case "Delta":
                guard case .rows(let n)? = window else {
                    if case .expanding? = window { op = .delta(0); break }
                    throw ExpressionError(.argument, "Delta needs an integer N", position: tree.position)
                }
                op = .delta(n)
            case "Quantile":
                guard let window else { throw ExpressionError(.argument, "Quantile needs a window", position: tree.position) }
                op = .quantile(window, probability)
            default:
                guard let r = RollingOperator(rawValue: name), let window else {
                    throw ExpressionError(.unknownOperator, "operator '\(name)' has no implementation", position: tree.position)
                }
                if r == .ema, case .expanding = window {
                    throw ExpressionError(.argument, "EMA needs a span N ≥ 1 or an alpha 0 < N < 1; N = 0 has no meaning",
                                          position: args[1].position, length: args[1].length)
                }
                if case .alpha = window, r != .ema {
                    // Qlib's Rolling base computes `ewm(alpha=N).mean()` for 0 < N < 1 whatever the operator, so
                    // Sum($close, 0.5) is the exponential mean there, and here.
                    op = .rolling(.mean, window)
                } else {
                    op = .rolling(r, window)
                }
            }
        }
        return .apply(op, series)
    }

    /// d for a field named `adv{d}` (`adv20` → 20), else nil.
    static func averageDailyVolumeDays(_ field: String) -> Int? {
        guard field.hasPrefix("adv"), let d = Int(field.dropFirst(3)), d >= 1, d <= 100_000,
              String(d) == field.dropFirst(3) else { return nil }
        return d
    }

    private func windowLiteral(_ arg: SyntaxTree, of name: String, fractional: Bool) throws(ExpressionError) -> Window {
        guard case .number(let v, let isInteger) = arg.kind else {
            throw literalError(arg, "the window of \(name) must be an integer literal, as in \(name)($close, 5)")
        }
        if isInteger || v == v.rounded() {
            guard let n = Int(exactly: v), n >= 0 else {
                throw ExpressionError(.argument, "the window of \(name) must be ≥ 0 (0 means all rows so far), got \(Format.number(v))",
                                      position: arg.position, length: arg.length)
            }
            guard n <= 100_000 else {
                throw ExpressionError(.argument, "the window of \(name) is too large (\(n) rows)", position: arg.position, length: arg.length)
            }
            return n == 0 ? .expanding : .rows(n)
        }
        if fractional && v > 0 && v < 1 { return .alpha(v) }
        let hint = fractional ? " (or 0 < N < 1 for an exponential mean)" : ""
        throw ExpressionError(.argument, "the window of \(name) must be an integer\(hint), got \(Format.number(v))",
                              position: arg.position, length: arg.length)
    }

    private func literalError(_ arg: SyntaxTree, _ message: String) -> ExpressionError {
        ExpressionError(.argument, message, position: arg.position, length: arg.length)
    }
}

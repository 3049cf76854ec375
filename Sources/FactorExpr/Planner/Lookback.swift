/// How many rows before and after a requested range an expression reads, computed from its tree, so that the
/// data layer can load exactly what makes results independent of the requested start date.
public struct Lookback: Sendable, Equatable {
    /// Rows needed before the first output row; nil when the whole history is needed (EMA, expanding windows).
    public var rowsBefore: Int?
    /// Rows needed after the last output row (negative `Ref`, as in labels).
    public var rowsAfter: Int

    public init(rowsBefore: Int?, rowsAfter: Int) {
        self.rowsBefore = rowsBefore
        self.rowsAfter = rowsAfter
    }

    /// The look-back of one expression.
    public static func of(_ expr: Expr) -> Lookback {
        guard case .apply(let op, let args) = expr else { return Lookback(rowsBefore: 0, rowsAfter: 0) }
        // Over reported periods, not rows: the reports' whole history is read whatever rows are loaded.
        if op == .pointInTime { return Lookback(rowsBefore: 0, rowsAfter: 0) }
        if case .periodRef = op { return Lookback(rowsBefore: 0, rowsAfter: 0) }
        let inner = combine(args.map(of))
        func extend(_ rows: Int?) -> Lookback {
            guard let rows, let before = inner.rowsBefore else { return Lookback(rowsBefore: nil, rowsAfter: inner.rowsAfter) }
            return Lookback(rowsBefore: before + rows, rowsAfter: inner.rowsAfter)
        }
        func windowRows(_ w: Window) -> Int? {
            if case .rows(let n) = w { return n - 1 }
            return nil
        }
        switch op {
        case .unary, .binary, .ifThenElse, .crossSection, .group, .csNeutralize, .changeInstrument, .pointInTime, .periodRef:
            return inner
        case .ref(let n):
            if n >= 0 { return extend(n) }
            return Lookback(rowsBefore: inner.rowsBefore, rowsAfter: inner.rowsAfter - n)
        case .delta(let n):
            return extend(n == 0 ? nil : n)  // Delta(x, 0) subtracts the first value of the whole history
        case .rolling(let r, let w):
            if r == .ema { return extend(nil) }
            return extend(windowRows(w))
        case .quantile(let w, _), .pair(_, let w):
            return extend(windowRows(w))
        case .worldQuant(let w, let d):
            return w.hasWindow ? extend(d - 1) : inner
        case .resample:
            // The previous period starts a calendar-dependent number of rows back: the whole history is loaded.
            return extend(nil)
        }
    }

    /// The look-back covering all of `parts`.
    public static func combine(_ parts: [Lookback]) -> Lookback {
        var before: Int? = 0
        var after = 0
        for p in parts {
            if let b = p.rowsBefore, let current = before { before = max(current, b) } else { before = nil }
            after = max(after, p.rowsAfter)
        }
        return Lookback(rowsBefore: before, rowsAfter: after)
    }
}

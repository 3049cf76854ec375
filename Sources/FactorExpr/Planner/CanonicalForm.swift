import FactorCore

/// The canonical form of an expression: one text for every way of writing the same computation, and its hash.
///
/// Normalisation: `Ref(x, 0)` is x; operands of commutative operators are ordered; operations on numbers only are
/// folded. Field names are lower case, numbers in their shortest form, no spaces.
public enum CanonicalForm {
    /// The normalised expression.
    public static func normalize(_ expr: Expr) -> Expr {
        guard case .apply(let op, let rawArgs) = expr else { return expr }
        let args = rawArgs.map(normalize)
        if case .ref(0) = op { return args[0] }
        if args.allSatisfy({ if case .constant = $0 { return true } else { return false } }),
           let folded = fold(op, args) {
            return .constant(folded)
        }
        if case .binary(let b) = op, b.isCommutative, text(args[0]) > text(args[1]) {
            return .apply(op, [args[1], args[0]])
        }
        return .apply(op, args)
    }

    /// The canonical text of an (already normalised) expression, e.g. `Div(Sub($close,$open),$open)`.
    public static func text(_ expr: Expr) -> String {
        switch expr {
        case .field(let f): return "$" + f
        case .constant(let v): return Format.number(v)
        case .apply(let op, let args):
            let inner = args.map(text)
            switch op {
            case .unary, .binary, .ifThenElse, .crossSection, .csNeutralize:
                return "\(op.name)(\(inner.joined(separator: ",")))"
            case .group(_, let category):
                return "\(op.name)(\(inner[0]),$\(category))"
            case .ref(let n), .delta(let n):
                return "\(op.name)(\(inner[0]),\(n))"
            case .rolling(_, let w):
                return "\(op.name)(\(inner[0]),\(windowText(w)))"
            case .quantile(let w, let q):
                return "Quantile(\(inner[0]),\(windowText(w)),\(Format.number(q)))"
            case .pair(_, let w):
                return "\(op.name)(\(inner[0]),\(inner[1]),\(windowText(w)))"
            case .changeInstrument(let code):
                return "ChangeInstrument('\(code)',\(inner[0]))"
            case .pointInTime:
                return "P(\(inner[0]))"
            case .periodRef(let period):
                return "PRef(\(inner[0]),\(period))"
            case .worldQuant(let w, let d):
                return w.hasWindow ? "\(op.name)(\(inner.joined(separator: ",")),\(d))" : "\(op.name)(\(inner.joined(separator: ",")))"
            case .resample(let r):
                return "TResample(\(inner[0]),'\(r.period.alias)','\(r.aggregation.rawValue)')"
            }
        }
    }

    /// SHA-256 (hex) of the canonical text: the identity of a factor's definition.
    public static func hash(_ expr: Expr) -> String { SHA256Digest.hex(text(expr)) }

    static func windowText(_ w: Window) -> String {
        switch w {
        case .rows(let n): return String(n)
        case .expanding: return "0"
        case .alpha(let a): return Format.number(a)
        }
    }

    private static func fold(_ op: Operation, _ args: [Expr]) -> Double? {
        let values = args.compactMap { if case .constant(let v) = $0 { return v } else { return nil } }
        switch op {
        case .unary(let u): return ElementWise.unary(u, values[0])
        case .binary(let b): return ElementWise.binary(b, values[0], values[1])
        case .ifThenElse: return ElementWise.truthy(values[0]) ? values[1] : values[2]
        default: return nil
        }
    }
}

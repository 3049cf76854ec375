/// What `factorlab check` reports about one expression.
public struct ExpressionInfo: Sendable {
    public var text: String
    public var expr: Expr
    public var canonical: String
    public var hash: String
    public var fields: [String]
    public var operators: [String]
    public var instruments: [String]
    public var lookback: Lookback
    public var usesCrossSection: Bool

    /// Parses, checks and analyses `text`.
    public init(_ text: String, checker: Checker = Checker()) throws(ExpressionError) {
        self.text = text
        let normalized = CanonicalForm.normalize(try checker.check(text))
        expr = normalized
        canonical = CanonicalForm.text(normalized)
        hash = CanonicalForm.hash(normalized)
        var fieldSet = Set<String>(), operatorSet = Set<String>(), instrumentSet = Set<String>()
        var crossSection = false
        func visit(_ e: Expr) {
            switch e {
            case .field(let f): fieldSet.insert(f)
            case .constant: break
            case .apply(let op, let args):
                operatorSet.insert(op.name)
                if op.isCrossSectional { crossSection = true }
                if case .changeInstrument(let code) = op { instrumentSet.insert(code) }
                args.forEach(visit)
            }
        }
        visit(normalized)
        fields = fieldSet.sorted()
        operators = operatorSet.sorted()
        instruments = instrumentSet.sorted()
        usesCrossSection = crossSection
        lookback = Lookback.of(normalized)
    }
}

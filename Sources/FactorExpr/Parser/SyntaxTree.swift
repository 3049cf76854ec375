/// A parsed, not yet checked expression. Infix operators appear as calls of their named form
/// (`a + b` is `Add(a, b)`, unary minus is `Neg(x)`), positioned at the operator token.
public struct SyntaxTree: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case number(Double, isInteger: Bool)
        case field(String)
        case string(String)
        case call(String)
    }

    public var kind: Kind
    public var arguments: [SyntaxTree]
    /// 1-based position of the token that names this node.
    public var position: Int
    public var length: Int
    /// True when written with an infix or prefix symbol rather than a call.
    public var isInfix: Bool

    public init(kind: Kind, arguments: [SyntaxTree] = [], position: Int, length: Int, isInfix: Bool = false) {
        self.kind = kind
        self.arguments = arguments
        self.position = position
        self.length = length
        self.isInfix = isInfix
    }
}

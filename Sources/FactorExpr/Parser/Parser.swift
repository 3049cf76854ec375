/// Parses expression text into a `SyntaxTree`.
///
/// Precedence, loosest to tightest: `|`, `&`, comparisons, `+ -`, `* /`, unary `-`, `**` (right-associative).
public struct Parser {
    private var tokens: [Token] = []
    private var index = 0
    private let text: String

    private init(text: String) { self.text = text }

    /// Parses `text`; errors carry the position of the offending token and the text.
    public static func parse(_ text: String) throws(ExpressionError) -> SyntaxTree {
        var parser = Parser(text: text)
        do throws(ExpressionError) {
            parser.tokens = try Lexer(text).tokenize()
            if case .end = parser.tokens[0].kind {
                throw ExpressionError(.syntax, "the expression is empty", position: 1)
            }
            let tree = try parser.parseOr()
            let next = parser.peek
            if case .end = next.kind { return tree }
            if case .symbol(")") = next.kind {
                throw ExpressionError(.syntax, "unbalanced ')': no matching '('", position: next.position)
            }
            throw ExpressionError(.syntax, "unexpected \(describe(next)) after a complete expression",
                                  position: next.position, length: next.length)
        } catch {
            throw error.with(expression: text)
        }
    }

    private var peek: Token { tokens[index] }

    private mutating func advance() -> Token {
        let t = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    private mutating func accept(_ symbols: Set<String>) -> Token? {
        if case .symbol(let s) = peek.kind, symbols.contains(s) { return advance() }
        return nil
    }

    private mutating func parseOr() throws(ExpressionError) -> SyntaxTree {
        var left = try parseAnd()
        while let op = accept(["|"]) { left = binary("Or", op, left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(ExpressionError) -> SyntaxTree {
        var left = try parseComparison()
        while let op = accept(["&"]) { left = binary("And", op, left, try parseComparison()) }
        return left
    }

    private static let comparisonNames = [">": "Gt", ">=": "Ge", "<": "Lt", "<=": "Le", "==": "Eq", "!=": "Ne"]

    private mutating func parseComparison() throws(ExpressionError) -> SyntaxTree {
        var left = try parseAdditive()
        while let op = accept(Set(Parser.comparisonNames.keys)) {
            guard case .symbol(let s) = op.kind, let name = Parser.comparisonNames[s] else { break }
            left = binary(name, op, left, try parseAdditive())
        }
        return left
    }

    private mutating func parseAdditive() throws(ExpressionError) -> SyntaxTree {
        var left = try parseMultiplicative()
        while let op = accept(["+", "-"]) {
            left = binary(op.kind == .symbol("+") ? "Add" : "Sub", op, left, try parseMultiplicative())
        }
        return left
    }

    private mutating func parseMultiplicative() throws(ExpressionError) -> SyntaxTree {
        var left = try parseUnary()
        while let op = accept(["*", "/"]) {
            left = binary(op.kind == .symbol("*") ? "Mul" : "Div", op, left, try parseUnary())
        }
        return left
    }

    private mutating func parseUnary() throws(ExpressionError) -> SyntaxTree {
        if let op = accept(["-"]) {
            let operand = try parseUnary()
            if case .number(let v, let isInteger) = operand.kind {  // fold `-5` into a literal
                return SyntaxTree(kind: .number(-v, isInteger: isInteger), position: op.position,
                                  length: operand.position + operand.length - op.position)
            }
            return SyntaxTree(kind: .call("Neg"), arguments: [operand], position: op.position, length: 1, isInfix: true)
        }
        if accept(["+"]) != nil { return try parseUnary() }
        return try parsePower()
    }

    private mutating func parsePower() throws(ExpressionError) -> SyntaxTree {
        let base = try parsePrimary()
        if let op = accept(["**"]) { return binary("Power", op, base, try parseUnary()) }
        return base
    }

    private mutating func parsePrimary() throws(ExpressionError) -> SyntaxTree {
        let token = advance()
        switch token.kind {
        case .number(let v, let isInteger):
            return SyntaxTree(kind: .number(v, isInteger: isInteger), position: token.position, length: token.length)
        case .field(let name):
            return SyntaxTree(kind: .field(name), position: token.position, length: token.length)
        case .string(let s):
            return SyntaxTree(kind: .string(s), position: token.position, length: token.length)
        case .identifier(let name):
            guard accept(["("]) != nil else {
                throw ExpressionError(.syntax, "'\(name)' must be called with arguments, as \(name)(…); fields start with '$'",
                                      position: token.position, length: token.length)
            }
            var args: [SyntaxTree] = []
            if accept([")"]) == nil {
                while true {
                    args.append(try parseOr())
                    if accept([","]) != nil { continue }
                    if accept([")"]) != nil { break }
                    let next = peek
                    if case .end = next.kind {
                        throw ExpressionError(.syntax, "unbalanced '(': the call to \(name) is not closed",
                                              position: token.position, length: token.length)
                    }
                    throw ExpressionError(.syntax, "expected ',' or ')' in the call to \(name), found \(Parser.describe(next))",
                                          position: next.position, length: next.length)
                }
            }
            return SyntaxTree(kind: .call(name), arguments: args, position: token.position, length: token.length)
        case .symbol("("):
            let inner = try parseOr()
            guard accept([")"]) != nil else {
                let next = peek
                if case .end = next.kind {
                    throw ExpressionError(.syntax, "unbalanced '(': missing ')'", position: token.position)
                }
                throw ExpressionError(.syntax, "expected ')', found \(Parser.describe(next))",
                                      position: next.position, length: next.length)
            }
            return inner
        case .end:
            throw ExpressionError(.syntax, "the expression ends where a value was expected", position: token.position)
        case .symbol(let s):
            if s == ")" {
                throw ExpressionError(.syntax, "unexpected ')': a value was expected", position: token.position)
            }
            throw ExpressionError(.syntax, "unexpected '\(s)': a value was expected", position: token.position,
                                  length: token.length)
        }
    }

    private func binary(_ name: String, _ op: Token, _ left: SyntaxTree, _ right: SyntaxTree) -> SyntaxTree {
        SyntaxTree(kind: .call(name), arguments: [left, right], position: op.position, length: op.length, isInfix: true)
    }

    private static func describe(_ t: Token) -> String {
        switch t.kind {
        case .number(let v, _): return "the number \(v)"
        case .field(let f): return "the field $\(f)"
        case .identifier(let s): return "'\(s)'"
        case .string(let s): return "the string '\(s)'"
        case .symbol(let s): return "'\(s)'"
        case .end: return "the end of the expression"
        }
    }
}

/// An error in an expression, with the 1-based character position of the offending token.
public struct ExpressionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of mistake it is.
    public enum Kind: String, Sendable, Codable {
        case syntax, unknownOperator, unknownField, arity, argument, unknownInstrument
        /// A factor that reads future values (`Ref(x, -N)`): allowed in labels only.
        case lookAhead
    }

    public var kind: Kind
    public var message: String
    /// 1-based character position of the token the error is about.
    public var position: Int
    /// Characters the offending token spans (for highlighting).
    public var length: Int
    /// A likely intended name ("did you mean …").
    public var suggestion: String?
    /// The expression text, when known, to show the position in context.
    public var expression: String?
    /// Context after the suggestion, such as the fields there are.
    public var note: String?

    public init(_ kind: Kind, _ message: String, position: Int, length: Int = 1, suggestion: String? = nil,
                expression: String? = nil, note: String? = nil) {
        self.note = note
        self.kind = kind
        self.message = message
        self.position = position
        self.length = max(1, length)
        self.suggestion = suggestion
        self.expression = expression
    }

    /// One line: position, message and suggestion.
    public var summary: String {
        var s = "position \(position): \(message)"
        if let suggestion { s += "; did you mean '\(suggestion)'?" }
        if let note { s += " (\(note))" }
        return s
    }

    /// The summary plus the expression with the offending token underlined.
    public var description: String {
        guard let expression, !expression.isEmpty else { return summary }
        let caretStart = max(0, min(position - 1, expression.count))
        let underline = String(repeating: " ", count: caretStart) + String(repeating: "^", count: length)
        return summary + "\n  " + expression + "\n  " + underline
    }

    func with(expression text: String) -> ExpressionError {
        var e = self
        if e.expression == nil { e.expression = text }
        return e
    }
}

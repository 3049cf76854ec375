/// A lexical token of the expression language.
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case number(Double, isInteger: Bool)
        case field(String)
        case identifier(String)
        case string(String)
        case symbol(String)  // ( ) , + - * / ** > >= < <= == != & |
        case end
    }

    var kind: Kind
    /// 1-based character position.
    var position: Int
    var length: Int
}

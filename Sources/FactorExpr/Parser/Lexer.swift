/// Splits expression text into tokens, tracking 1-based character positions.
struct Lexer {
    private let chars: [Character]

    init(_ text: String) { chars = Array(text) }

    func tokenize() throws(ExpressionError) -> [Token] {
        var tokens: [Token] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1; continue }
            let start = i
            if c == "$" {
                // `$$roe_q`, a point-in-time field, is the field named `$roe_q`.
                i += 1
                let pointInTime = i < chars.count && chars[i] == "$"
                if pointInTime { i += 1 }
                let nameStart = i
                while i < chars.count, isIdentifierChar(chars[i]) { i += 1 }
                if i == nameStart {
                    throw ExpressionError(.syntax, pointInTime ? "'$$' must be followed by a point-in-time field such as $$roe_q"
                                                               : "'$' must be followed by a field name such as $close",
                                          position: start + 1)
                }
                tokens.append(Token(kind: .field((pointInTime ? "$" : "") + String(chars[nameStart..<i])), position: start + 1, length: i - start))
            } else if isDigit(c) || (c == "." && i + 1 < chars.count && isDigit(chars[i + 1])) {
                var isInteger = true
                while i < chars.count, isDigit(chars[i]) { i += 1 }
                if i < chars.count, chars[i] == "." {
                    isInteger = false
                    i += 1
                    while i < chars.count, isDigit(chars[i]) { i += 1 }
                }
                if i < chars.count, chars[i] == "e" || chars[i] == "E" {
                    var j = i + 1
                    if j < chars.count, chars[j] == "+" || chars[j] == "-" { j += 1 }
                    if j < chars.count, isDigit(chars[j]) {
                        isInteger = false
                        i = j
                        while i < chars.count, isDigit(chars[i]) { i += 1 }
                    }
                }
                let text = String(chars[start..<i])
                guard let value = Double(text) else {
                    throw ExpressionError(.syntax, "'\(text)' is not a number", position: start + 1, length: i - start)
                }
                if i < chars.count, isIdentifierStart(chars[i]) {
                    throw ExpressionError(.syntax, "unexpected '\(chars[i])' after the number \(text)", position: i + 1)
                }
                tokens.append(Token(kind: .number(value, isInteger: isInteger), position: start + 1, length: i - start))
            } else if isIdentifierStart(c) {
                while i < chars.count, isIdentifierChar(chars[i]) { i += 1 }
                tokens.append(Token(kind: .identifier(String(chars[start..<i])), position: start + 1, length: i - start))
            } else if c == "'" || c == "\"" {
                i += 1
                while i < chars.count, chars[i] != c { i += 1 }
                guard i < chars.count else {
                    throw ExpressionError(.syntax, "unterminated string (no closing \(c))", position: start + 1)
                }
                tokens.append(Token(kind: .string(String(chars[(start + 1)..<i])), position: start + 1, length: i - start + 1))
                i += 1
            } else {
                let two = i + 1 < chars.count ? String([c, chars[i + 1]]) : ""
                if ["**", ">=", "<=", "==", "!=", "&&", "||"].contains(two) {
                    let symbol = two == "&&" ? "&" : (two == "||" ? "|" : two)
                    tokens.append(Token(kind: .symbol(symbol), position: start + 1, length: 2))
                    i += 2
                } else if "()+-*/<>&|,".contains(c) {
                    tokens.append(Token(kind: .symbol(String(c)), position: start + 1, length: 1))
                    i += 1
                } else if c == "=" {
                    throw ExpressionError(.syntax, "'=' is not an operator; use '==' to compare", position: start + 1)
                } else {
                    throw ExpressionError(.syntax, "unexpected character '\(c)'", position: start + 1)
                }
            }
        }
        tokens.append(Token(kind: .end, position: chars.count + 1, length: 1))
        return tokens
    }

    private func isDigit(_ c: Character) -> Bool { c >= "0" && c <= "9" }
    private func isIdentifierStart(_ c: Character) -> Bool { c == "_" || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") }
    private func isIdentifierChar(_ c: Character) -> Bool { isIdentifierStart(c) || isDigit(c) }
}

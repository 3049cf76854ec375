import FactorData

/// Reads `name<TAB>expression` files (header `name<TAB>expression`) and `NAME=EXPRESSION` arguments.
public enum ExpressionFile {
    /// Errors name the file and line.
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    /// Parses TSV text; `path` is used in messages.
    public static func parse(_ text: String, path: String) throws(ReadError) -> [NamedExpression] {
        var result: [NamedExpression] = []
        var seen = Set<String>()
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.trimmingSpaces.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            if lineNumber == 1 && parts.first.map({ $0.lowercased() == "name" }) == true { continue }
            guard parts.count == 2 else {
                throw ReadError(message: "\(path):\(lineNumber): expected 'name<TAB>expression', found no tab")
            }
            let name = String(parts[0]).trimmingSpaces, expression = String(parts[1]).trimmingSpaces
            guard !name.isEmpty else { throw ReadError(message: "\(path):\(lineNumber): the name is empty") }
            guard !expression.isEmpty else { throw ReadError(message: "\(path):\(lineNumber): the expression of \(name) is empty") }
            guard seen.insert(name).inserted else {
                throw ReadError(message: "\(path):\(lineNumber): the name \(name) appears twice")
            }
            result.append(NamedExpression(name: name, text: expression))
        }
        if result.isEmpty { throw ReadError(message: "\(path): no expressions found") }
        return result
    }

    /// Parses `NAME=EXPRESSION` (the name must be an identifier; the expression may itself contain `==`).
    public static func parseAssignment(_ text: String) throws(ReadError) -> NamedExpression {
        guard let eq = text.firstIndex(of: "=") else {
            throw ReadError(message: "--expr '\(text)': expected NAME=EXPRESSION, e.g. --expr 'MOM5=Ref($close, 5)/$close - 1'")
        }
        let name = String(text[..<eq]).trimmingSpaces
        let expression = String(text[text.index(after: eq)...]).trimmingSpaces
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" }) else {
            throw ReadError(message: "--expr '\(text)': '\(name)' is not a valid name (letters, digits, _ . -)")
        }
        guard !expression.isEmpty else { throw ReadError(message: "--expr '\(text)': the expression is empty") }
        return NamedExpression(name: name, text: expression)
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

import ArgumentParser
import FactorExpr
import Foundation

/// `--expr NAME=EXPRESSION …` and `--expr-file FILE.tsv`.
struct ExpressionOptions: ParsableArguments {
    @Option(name: .customLong("expr"), help: "NAME=EXPRESSION (repeatable), e.g. --expr 'MOM5=Ref($close, 5)/$close - 1'.")
    var expressions: [String] = []

    @Option(help: "A TSV file with header name<TAB>expression.")
    var exprFile: String?

    var isEmpty: Bool { expressions.isEmpty && exprFile == nil }

    func named() throws -> [NamedExpression] {
        var result: [NamedExpression] = []
        if let exprFile {
            guard let data = FileManager.default.contents(atPath: exprFile), let text = String(data: data, encoding: .utf8) else {
                throw CLIError("cannot read the expression file \(exprFile)")
            }
            result += try ExpressionFile.parse(text, path: exprFile)
        }
        for e in expressions { result.append(try ExpressionFile.parseAssignment(e)) }
        guard !result.isEmpty else {
            throw ValidationError("give at least one expression with --expr NAME=EXPRESSION or --expr-file FILE.tsv")
        }
        var seen = Set<String>()
        for e in result where !seen.insert(e.name).inserted {
            throw ValidationError("the expression name \(e.name) is used twice")
        }
        return result
    }
}

import ArgumentParser
import FactorData
import FactorExpr
import Foundation

/// `--expr NAME=EXPRESSION …`, `--expr-file FILE.tsv` and `--library NAME`.
struct ExpressionOptions: ParsableArguments {
    @Option(name: .customLong("expr"), help: "NAME=EXPRESSION (repeatable), e.g. --expr 'MOM5=Ref($close, 5)/$close - 1'.")
    var expressions: [String] = []

    @Option(help: "A TSV file with header name<TAB>expression, or a built-in library's name (alpha158, wq101).")
    var exprFile: String?

    @Option(help: "A built-in expression library: alpha158 (Qlib's Alpha158) or wq101 (WorldQuant's 101 alphas); the entries whose fields the data lacks are left out, with a note.")
    var library: String?

    var isEmpty: Bool { expressions.isEmpty && exprFile == nil && library == nil }

    /// The library named by --library, or by --expr-file when no such file exists.
    func selectedLibrary() throws -> ExpressionLibrary? {
        if let library {
            guard let found = ExpressionLibrary.named(library) else {
                throw ValidationError("unknown library '\(library)': choose \(ExpressionLibrary.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            return found
        }
        if let exprFile, !FileManager.default.fileExists(atPath: exprFile) { return ExpressionLibrary.named(exprFile) }
        return nil
    }

    /// The expressions; a library's entries are kept only when `source` has what they read (a note on stderr says
    /// which are left out and why).
    func named(source: (any MarketDataSource)? = nil) throws -> [NamedExpression] {
        var result: [NamedExpression] = []
        let library = try selectedLibrary()
        if let library {
            var entries = library.entries
            if let source {
                let split = library.split(fields: Set(try source.fieldNames()),
                                          categories: try DataSources.categoryNames(directory: source.directory))
                entries = split.usable
                let byMissing = Dictionary(grouping: split.lacking) { $0.missing.map { "$" + $0 }.joined(separator: " and ") }
                for (missing, lacking) in byMissing.sorted(by: { $0.key < $1.key }) {
                    FileHandle.standardError.write(Data("\(library.rawValue): \(lacking.count) left out, they need \(missing), which this data lacks: \(lacking.map(\.entry.name).joined(separator: " "))\n".utf8))
                }
            }
            for omitted in library.omitted {
                FileHandle.standardError.write(Data("\(library.rawValue): \(omitted.name) is not in the library: \(omitted.reason)\n".utf8))
            }
            result += entries.map { NamedExpression(name: $0.name, text: $0.expression) }
        }
        if let exprFile, library == nil || self.library != nil {
            guard let data = FileManager.default.contents(atPath: exprFile), let text = String(data: data, encoding: .utf8) else {
                throw CLIError("cannot read the expression file \(exprFile)")
            }
            result += try ExpressionFile.parse(text, path: exprFile)
        }
        for e in expressions { result.append(try ExpressionFile.parseAssignment(e)) }
        if let library = try selectedLibrary(), result.isEmpty {
            throw CLIError("no expression of the library \(library.rawValue) can run on this data (the notes above say what is missing)")
        }
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

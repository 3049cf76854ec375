import ArgumentParser
import FactorData
import FactorExpr

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check an expression: print its canonical form, hash, fields, operators and look-back, or the error.")

    @Argument(help: "The expression, e.g. 'Mean($close, 5)/$close'.")
    var expression: String

    @Option(help: "Check field names against this data directory (default: the data the other commands would use, else the standard OHLCV fields).")
    var data: String?

    /// Fields every bar source is expected to offer when no data directory is at hand.
    static let standardFields: Set<String> = ["open", "high", "low", "close", "volume", "amount", "vwap", "factor"]

    func run() throws {
        var fields = Self.standardFields
        if let location = try? DataLocator.resolve(explicitPath: data, kind: nil) {
            fields = Set(try DataSources.open(directory: location.directory, kind: location.kind).fieldNames())
        } else if let data {
            _ = try DataLocator.resolve(explicitPath: data, kind: nil)  // reports why the directory is unusable
        }
        do {
            let info = try ExpressionInfo(expression, checker: Checker(fields: fields))
            let before = info.lookback.rowsBefore.map { "\($0) rows" } ?? "the whole history (EMA or an expanding window)"
            print("canonical:   \(info.canonical)")
            print("hash:        \(info.hash)")
            print("fields:      \(info.fields.map { "$" + $0 }.joined(separator: " "))")
            print("operators:   \(info.operators.joined(separator: " "))")
            if !info.instruments.isEmpty { print("instruments: \(info.instruments.joined(separator: " "))") }
            print("look-back:   \(before)")
            if info.lookback.rowsAfter > 0 { print("look-ahead:  \(info.lookback.rowsAfter) rows (uses future values: a label, not a factor)") }
            if info.usesCrossSection { print("cross-sectional: yes (depends on the universe)") }
        } catch {
            print("error: \(error)")
            throw ExitCode(65)
        }
    }
}

import ArgumentParser
import FactorExpr

struct OperatorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "operators", abstract: "List every operator of the expression language.")

    func run() {
        let rows = OperatorCatalog.all.map { [$0.signature, $0.family, $0.summary] }
        print(Terminal.table(["operator", "family", "meaning"], rows))
        print("\nInfix: | & > >= < <= == != + - * / ** and unary -; fields are $name (case-insensitive).")
    }
}

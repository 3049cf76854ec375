import ArgumentParser

@main
struct FactorLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factorlab",
        abstract: "FactorLab: compute and evaluate alpha factors written in Qlib's expression language.",
        subcommands: [DemoCommand.self, FeaturesCommand.self, EvaluateCommand.self, CheckCommand.self, OperatorsCommand.self, BenchCommand.self]
    )
}

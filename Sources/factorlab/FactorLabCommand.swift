import ArgumentParser

@main
struct FactorLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factorlab",
        abstract: "FactorLab: compute and evaluate alpha factors written in Qlib's expression language.",
        subcommands: [DemoCommand.self, FeaturesCommand.self, EvaluateCommand.self, CheckCommand.self, OperatorsCommand.self,
                      InitDBCommand.self, RegisterFactorCommand.self, UpdateFactorCommand.self, RollbackFactorCommand.self,
                      SubmitReviewCommand.self, ApproveFactorCommand.self, DeprecateFactorCommand.self, ListFactorsCommand.self,
                      ShowFactorCommand.self, LeaderboardCommand.self, ExportResultsCommand.self, BenchCommand.self]
    )
}

import ArgumentParser
import FactorData
import FactorEval
import FactorExpr
import FactorPlatform
import FactorServer
import FactorStore
import Foundation

@main
struct FactorLabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factorlab",
        abstract: "FactorLab: compute and evaluate alpha factors written in Qlib's expression language.",
        subcommands: [QuickstartCommand.self, DemoCommand.self, FeaturesCommand.self, EvaluateCommand.self, CheckCommand.self, OperatorsCommand.self,
                      InitDBCommand.self, RegisterFactorCommand.self, UpdateFactorCommand.self, RollbackFactorCommand.self,
                      SubmitReviewCommand.self, ApproveFactorCommand.self, DeprecateFactorCommand.self, ListFactorsCommand.self,
                      ShowFactorCommand.self, LeaderboardCommand.self, ExportResultsCommand.self,
                      SubmitJobCommand.self, ListJobsCommand.self, ShowJobCommand.self, CancelJobCommand.self, RetryJobCommand.self,
                      WorkerCommand.self, RunTaskCommand.self, DeliverWebhooksCommand.self, ServeCommand.self, CreateTokenCommand.self, RevokeTokenCommand.self, SetUserCommand.self, RemoveUserCommand.self, ListUsersCommand.self,
                      ListTokensCommand.self, AlertsCommand.self, AcknowledgeAlertCommand.self, AlertRulesCommand.self, SetAlertRuleCommand.self, RemoveAlertRuleCommand.self, SubscribeCommand.self, SubscriptionsCommand.self, UnsubscribeCommand.self, DeliveriesCommand.self, RedeliverCommand.self, MigrateStoreCommand.self, ExportStoreCommand.self, AirflowCommand.self, PythonSetupCommand.self, BenchCommand.self]
    )

    /// Runs the command; our own errors print one line on stderr and exit with a code that says whether a retry
    /// can help (see `ExitStatus`).
    static func main() async {
        LogSetup.bootstrap()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            exit(withError: error)
        } catch {
            if let status = ExitStatus.of(error) {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                Foundation.exit(status.rawValue)
            }
            exit(withError: error)
        }
    }
}

/// Exit codes: 0 success; 64 bad usage; 65 bad input (an invalid expression or factor, bad data, a refused
/// change: do not retry); 75 a temporary failure (retry); 99 the task was cancelled (`run-task`; Airflow's skip
/// code); 1 anything else.
enum ExitStatus: Int32 {
    case usage = 64
    case dataError = 65
    case temporary = 75
    case cancelled = 99

    static func of(_ error: any Error) -> ExitStatus? {
        switch error {
        case is ValidationError: return .usage
        case is ServerUnavailable: return .temporary
        case let e as StoreError:
            if case .database = e { return .temporary }
            return .dataError
        case is PlatformError, is NamedExpressionError, is ExpressionError, is ExpressionEvaluationError,
             is DataError, is CSVError, is EvaluationError, is ExpressionFile.ReadError, is ValuesFile.ReadError,
             is IndustryFile.ReadError, is CLIError:
            return .dataError
        default:
            return nil
        }
    }
}

import Foundation
import Logging

/// Operational logs (workers, the server, webhook delivery) go through swift-log to stderr, so that `--json` output on
/// stdout stays clean; `FACTOR_LOG_LEVEL` (trace, debug, info, notice, warning, error, critical) sets the level.
enum LogSetup {
    static func bootstrap(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let text = environment["FACTOR_LOG_LEVEL"]?.lowercased() ?? "info"
        let level = Logger.Level(rawValue: text) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        if Logger.Level(rawValue: text) == nil {
            Terminal.info("warning: FACTOR_LOG_LEVEL=\(text) is not a level (trace, debug, info, notice, warning, error, critical); using info")
        }
    }
}

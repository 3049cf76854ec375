import ArgumentParser
import FactorData
import FactorStore
import Foundation

/// `factorlab airflow …`: what a shell that runs Airflow needs to find FactorLab. The pipeline itself lives in the DAG
/// file (`airflow/dags/starquant_factor_pipeline.py`); nothing here orchestrates.
struct AirflowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "airflow",
        abstract: "Helpers for running FactorLab under Apache Airflow 3 (the DAGs are in airflow/dags).",
        subcommands: [AirflowEnvCommand.self, AirflowPoolCommand.self, AirflowDagsFolderCommand.self])
}

/// `eval "$(factorlab airflow env)"`: absolute paths for everything the DAG reads from the environment. Airflow runs
/// tasks in other working directories, where a relative `factorlab.db` or `./stockdata` would point elsewhere.
struct AirflowEnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Print export lines (absolute paths) for the shell that runs Airflow: dags folder, binary, database, data.")

    @Option(help: "SQLite database the pipeline uses (default: $FACTOR_PLATFORM_DB, else factorlab.db here).") var db: String?
    @Option(help: "Data directory the jobs read (default: the configured data).") var data: String?
    @Option(help: "The folder holding starquant_factor_pipeline.py (default: found beside this binary's checkout).") var dagsFolder: String?

    func run() throws {
        let here = FileManager.default.currentDirectoryPath
        func absolute(_ path: String) -> String {
            let expanded = NSString(string: path).expandingTildeInPath
            return ((expanded.hasPrefix("/") ? expanded : here + "/" + expanded) as NSString).standardizingPath
        }
        let folder = try dagsFolder.map(absolute) ?? AirflowDagsFolder.locate()
        var lines = ["export AIRFLOW__CORE__DAGS_FOLDER=\(Self.quoted(folder))",
                     "export FACTORLAB_BIN=\(Self.quoted(AirflowDagsFolder.executablePath()))"]
        let database = StoreLocation.resolve(db)
        lines.append("export FACTOR_PLATFORM_DB=\(Self.quoted(database.contains("://") ? database : absolute(database)))")
        if let location = try? DataLocator.resolve(explicitPath: data) {
            let variable = location.kind == .qlib ? "QLIB_DATA_PATH" : "FACTOR_DATA_PATH"
            lines.append("export \(variable)=\(Self.quoted(location.directory))")
        } else {
            lines.append("# no data directory is configured: set FACTOR_DATA_PATH or QLIB_DATA_PATH, or pass --data")
        }
        print(lines.joined(separator: "\n"))
    }

    /// Single-quoted for a POSIX shell.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

/// The pool `evaluate_factor` runs in: one slot per core of the machine by default.
struct AirflowPoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Print the `airflow pools set` line for the pool evaluate_factor runs in (one slot per core by default).")

    @Option(help: "Slots: how many FactorLab tasks Airflow runs at once across all runs.") var slots: Int?
    @Option(help: "Pool name (the DAG reads $FACTORLAB_POOL, default factorlab).") var name: String?

    func run() throws {
        let count = slots ?? ProcessInfo.processInfo.activeProcessorCount
        guard count >= 1 else { throw ValidationError("--slots must be ≥ 1") }
        let pool = name ?? ProcessInfo.processInfo.environment["FACTORLAB_POOL"] ?? "factorlab"
        print("airflow pools set \(AirflowEnvCommand.quoted(pool)) \(count) 'FactorLab evaluations (one slot per task)'")
    }
}

struct AirflowDagsFolderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dags-folder", abstract: "Print the folder holding the FactorLab DAGs.")

    func run() throws { print(try AirflowDagsFolder.locate()) }
}

/// Where the DAG file is: `airflow/dags` of the checkout this binary was built in (or of the working directory).
enum AirflowDagsFolder {
    static let dagFile = "starquant_factor_pipeline.py"

    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? Bundle.main.executablePath ?? CommandLine.arguments[0]
    }

    static func locate() throws -> String {
        let starts = [(executablePath() as NSString).deletingLastPathComponent, FileManager.default.currentDirectoryPath]
        for start in starts {
            var directory = (start as NSString).standardizingPath
            while true {
                let candidate = directory + "/airflow/dags"
                if FileManager.default.fileExists(atPath: candidate + "/" + dagFile) { return candidate }
                let parent = (directory as NSString).deletingLastPathComponent
                if parent == directory || parent.isEmpty { break }
                directory = parent
            }
        }
        throw CLIError("cannot find airflow/dags/\(dagFile) above \(starts.joined(separator: " or ")); pass --dags-folder "
                       + "or copy the folder from the FactorLab repository")
    }
}

import ArgumentParser
import FactorPython
import Foundation

/// `factorlab python-setup`: the venv Python factors run in (numpy and pandas, pinned), checked by starting the runner.
struct PythonSetupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "python-setup",
        abstract: "Create the Python environment Python factors run in (a venv with numpy and pandas), and check it.",
        discussion: """
        The venv goes to $FACTOR_CACHE_DIR/python-venv (default ~/.cache/factorlab/python-venv), where workers find it
        without configuration; FACTOR_PYTHON names another interpreter instead. Run it once per host that runs workers.
        """)

    /// The versions installed: the same pins as the interop checks, known to install here.
    static let requirements = ["numpy==2.4.6", "pandas==3.1.1"]

    @Option(help: "The Python that creates the venv.") var python = "python3"
    @Option(help: "Where to create it (default: $FACTOR_CACHE_DIR/python-venv).") var dir: String?
    @Option(parsing: .upToNextOption, help: "More packages to install into it (pip requirement specifiers).") var with: [String] = []

    func run() throws {
        let directory = dir ?? PythonSettings.defaultVenv
        let interpreter = (directory as NSString).appendingPathComponent("bin/python")
        if !FileManager.default.isExecutableFile(atPath: interpreter) {
            try FileManager.default.createDirectory(atPath: (directory as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Self.execute([python, "-m", "venv", directory], what: "creating the venv (Debian: apt-get install python3-venv)")
        }
        try Self.execute([interpreter, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + Self.requirements + with,
                         what: "installing \((Self.requirements + with).joined(separator: " "))")
        var settings = PythonSettings.fromEnvironment()
        settings.interpreter = interpreter
        let runner = PythonFactorRunner(settings: settings)
        let versions = try runner.versions()
        runner.shutdown()
        print("Python factors run in \(interpreter): Python \(versions["python"] ?? "?"), numpy \(versions["numpy"] ?? "?"), pandas \(versions["pandas"] ?? "?")")
        if dir != nil && dir != PythonSettings.defaultVenv {
            print("set FACTOR_PYTHON=\(interpreter) for workers and the server to use it")
        }
    }

    static func execute(_ arguments: [String], what: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        do { try process.run() } catch { throw CLIError("\(what): cannot run \(arguments[0]): \(error.localizedDescription)") }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("\(what) failed (\(arguments.joined(separator: " ")) exited with status \(process.terminationStatus))")
        }
    }
}

import Foundation
import Dispatch

/// The `factorlab` executable that `swift test` built beside the test bundle.
public enum FactorlabExecutable {
    public static var path: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("factorlab").path,
                          root.appendingPathComponent(".build/debug/factorlab").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

extension FactorlabExecutable {
    public struct NotBuilt: Error, CustomStringConvertible {
        public var description: String { "the factorlab executable is not built" }
    }

    /// Starts `factorlab arguments…` with `environment` added to this process's; stdout is discarded, stderr is the
    /// returned pipe (read it to the end before waiting, so a chatty process cannot block on a full pipe).
    public static func launch(_ arguments: [String], environment: [String: String] = [:]) throws -> (Process, Pipe) {
        try start(arguments, environment: environment, stdout: FileHandle.nullDevice)
    }

    /// Starts `factorlab arguments…` with stdout and stderr as pipes (read both before waiting).
    public static func launchCapturing(_ arguments: [String], environment: [String: String] = [:]) throws -> (Process, Pipe) {
        try start(arguments, environment: environment, stdout: Pipe())
    }

    private static func start(_ arguments: [String], environment: [String: String], stdout: Any) throws -> (Process, Pipe) {
        guard let path else { throw NotBuilt() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = stdout
        try process.run()
        return (process, err)
    }

    /// Runs `factorlab arguments…` to its end; returns the exit status and what it wrote on stderr. Blocks: call it
    /// from `blocking { }` in async tests.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stderr: String) {
        let (process, err) = try launch(arguments, environment: environment)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}

extension FactorlabExecutable {
    /// Runs `factorlab arguments…` to its end and returns its exit status, stdout and stderr (stderr is drained on
    /// another thread, so neither pipe can fill up and block the process). Blocks: call it from `blocking { }`.
    public static func output(_ arguments: [String], environment: [String: String] = [:]) throws
        -> (status: Int32, stdout: Data, stderr: String) {
        let (process, err) = try launchCapturing(arguments, environment: environment)
        let (out, log) = finish(process, err)
        return (process.terminationStatus, out, log)
    }

    /// Reads a started process's stdout (when it is a pipe) and stderr to their ends and waits for it to exit.
    public static func finish(_ process: Process, _ err: Pipe) -> (stdout: Data, stderr: String) {
        let box = ErrorText()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            box.text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            drained.signal()
        }
        let out = (process.standardOutput as? Pipe)?.fileHandleForReading.readDataToEndOfFile() ?? Data()
        process.waitUntilExit()
        drained.wait()
        return (out, box.text)
    }

    private final class ErrorText: @unchecked Sendable { var text = "" }
}

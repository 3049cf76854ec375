import FactorExpr
import Foundation

/// A child process run to completion and measured: wall time from spawn to exit, and its own peak resident memory
/// (wait4's rusage, so one run's figure is not mixed with another's). Output goes to files, read back after.
struct MeasuredRun {
    var status: Int32
    var seconds: Double
    var peakMegabytes: Double
    var stdout: String
    var stderr: String

    enum Failure: Error, CustomStringConvertible {
        case cannotStart(String, Int32)
        case failed([String], Int32, String)

        var description: String {
            switch self {
            case .cannotStart(let program, let code): return "cannot start \(program): \(String(cString: strerror(code)))"
            case .failed(let arguments, let status, let stderr):
                return "\(arguments.joined(separator: " ")) exited \(status): \(stderr.suffix(2000))"
            }
        }
    }

    /// Runs `arguments` (the first is looked up on PATH), with `environment` added to this process's; a non-zero exit is
    /// an error unless `allowFailure`.
    static func run(_ arguments: [String], environment: [String: String] = [:], allowFailure: Bool = false) throws -> MeasuredRun {
        let folder = NSTemporaryDirectory() + "factorlab-run-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outPath = folder + "/out", errPath = folder + "/err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let started = ContinuousClock.now
        let code = posix_spawnp(&pid, arguments[0], &actions, nil, argv, envp)
        guard code == 0 else { throw Failure.cannotStart(arguments[0], code) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let seconds = (ContinuousClock.now - started).seconds
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let run = MeasuredRun(status: exit, seconds: seconds, peakMegabytes: Double(usage.ru_maxrss) / 1024,
                              stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                              stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
        if exit != 0 && !allowFailure { throw Failure.failed(arguments, exit, run.stderr) }
        return run
    }

    /// The fastest of `count` runs (the least disturbed by whatever else the machine does).
    static func best(of count: Int, _ arguments: [String], environment: [String: String] = [:]) throws -> MeasuredRun {
        var best: MeasuredRun?
        for _ in 0..<max(1, count) {
            let run = try run(arguments, environment: environment)
            if best == nil || run.seconds < best!.seconds { best = run }
        }
        return best!
    }

    /// The fastest of `count` runs of each command, the commands taking turns (A, B, A, B …), so that a ratio of
    /// their times compares runs made under the same load of a shared machine.
    static func bestInTurns(of count: Int, _ commands: [[String]]) throws -> [MeasuredRun] {
        var best: [MeasuredRun?] = Array(repeating: nil, count: commands.count)
        for _ in 0..<max(1, count) {
            for (k, arguments) in commands.enumerated() {
                let run = try run(arguments)
                if best[k] == nil || run.seconds < best[k]!.seconds { best[k] = run }
            }
        }
        return best.map { $0! }
    }
}

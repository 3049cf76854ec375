import ArgumentParser
import FactorCore
import FactorEval
import FactorPython
import Foundation

/// `--python NAME=FILE.py` (or `FILE.py`, named by its stem): Python factors, checked when read and computed by one
/// runner process; a factor that fails is reported with its traceback and the others are still scored.
struct PythonFactorFiles: Sendable {
    struct Entry: Sendable {
        var name: String
        var filename: String
        var source: String
        var declaration: PythonFactorRunner.Declaration
    }

    let runner: PythonFactorRunner
    let entries: [Entry]
    let failures = FailureLog()

    init(_ arguments: [String], runner: PythonFactorRunner = PythonFactorRunner(settings: .fromEnvironment(), log: { Terminal.info($0.trimmingCharacters(in: .newlines)) })) throws {
        var entries: [(name: String, filename: String, source: String)] = []
        for argument in arguments {
            let (name, path): (String, String)
            if let eq = argument.firstIndex(of: "="), !argument[..<eq].contains("/") {
                (name, path) = (String(argument[..<eq]), String(argument[argument.index(after: eq)...]))
            } else {
                (name, path) = (((argument as NSString).lastPathComponent as NSString).deletingPathExtension, argument)
            }
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read the Python factor file \(path)") }
            entries.append((name, path, String(decoding: data, as: UTF8.self)))
        }
        try self.init(sources: entries, runner: runner)
    }

    /// Registered factors' sources: `(name, filename, source)`.
    init(sources: [(name: String, filename: String, source: String)],
         runner: PythonFactorRunner = PythonFactorRunner(settings: .fromEnvironment(), log: { Terminal.info($0.trimmingCharacters(in: .newlines)) })) throws {
        self.runner = runner
        var entries: [Entry] = []
        for (name, filename, source) in sources {
            let declaration: PythonFactorRunner.Declaration
            do { declaration = try runner.check(source: source, filename: filename) } catch {
                throw CLIError("\(filename): \(error)")
            }
            guard !entries.contains(where: { $0.name == name }) else { throw ValidationError("the factor name \(name) is used twice") }
            entries.append(Entry(name: name, filename: filename, source: source, declaration: declaration))
        }
        self.entries = entries
    }

    /// The factors as an evaluation input: the union of their fields, the longest look-back.
    var computed: ComputedFactors {
        let entries = self.entries, runner = self.runner, failures = self.failures
        return ComputedFactors(names: entries.map(\.name), fields: Array(Set(entries.flatMap(\.declaration.fields))).sorted(),
                               lookbackRows: entries.map(\.declaration.lookback).max() ?? 0,
                               lookbacks: entries.map(\.declaration.lookback)) { data, k in
            let e = entries[k]
            do throws(PythonFailure) {
                return try runner.run(source: e.source, filename: e.filename, fields: e.declaration.fields, data: data).panel
            } catch {
                failures.add(e.name, error)
                return nil
            }
        }
    }

    /// Prints every failure; throws when no factor could be computed.
    func reportFailures() throws {
        let failed = failures.all
        for (name, failure) in failed {
            Terminal.info("\(name) failed (\(failure.kind.rawValue)): \(failure)")
            if !failure.output.isEmpty { Terminal.info("\(name) output:\n\(failure.output.trimmingCharacters(in: .newlines))") }
        }
        if !failed.isEmpty && failed.count == entries.count {
            throw CLIError("no Python factor could be computed")
        }
    }
}

/// Failures recorded by the compute closure, which runs on the evaluation's thread.
final class FailureLog: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [(String, PythonFailure)] = []

    func add(_ name: String, _ failure: PythonFailure) {
        lock.lock(); defer { lock.unlock() }
        failures.append((name, failure))
    }

    var all: [(String, PythonFailure)] {
        lock.lock(); defer { lock.unlock() }
        return failures
    }
}

import ArgumentParser
import FactorCore
import FactorData
import FactorPython
import Foundation

/// `factorlab bench python`: what the runner protocol costs per factor — a function that returns its input
/// unchanged, over a whole data set, so that the time is the transfer both ways plus Python's call overhead.
struct BenchPythonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "python",
        abstract: "Time the Python factor protocol: a trivial factor over a data set, per call (goal: under 50 ms).",
        discussion: "Needs `factorlab python-setup` (or FACTOR_PYTHON). Default data: ../shared/data/cn_csi300_daily when present.")

    @Option(help: "Data directory (default: $FACTOR_DATA_PATH, else ../shared/data/cn_csi300_daily, else ./stockdata).") var data: String?
    @Option(help: "Universe.") var universe = "all"
    @Option(help: "Fields the factor declares, comma-separated.") var fields = "close"
    @Option(name: .customLong("repeat"), help: "Calls to time after the first.") var calls = 10
    @Flag(help: "Print the figures as JSON.") var json = false

    func run() throws {
        let directory = try data ?? ProcessInfo.processInfo.environment["FACTOR_DATA_PATH"]
            ?? ["../shared/data/cn_csi300_daily", "stockdata"].first { FileManager.default.fileExists(atPath: $0) }
            ?? { throw CLIError("no data: pass --data DIR (for example ../shared/data/cn_csi300_daily)") }()
        let fieldList = fields.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let source = try DataSources.open(directory: directory)
        let loaded = try source.load(DataRequest(universe: try UniverseSpec(parsing: universe), fields: fieldList))
        let n = loaded.data.instruments.count, t = loaded.data.calendar.count
        let declared = fieldList.map { "\"\($0)\"" }.joined(separator: ", ")
        let identity = "fields = [\(declared)]\nlookback = 0\n\ndef factor(data):\n    return data[\"\(fieldList[0])\"]\n"
        let runner = PythonFactorRunner()
        let clock = ContinuousClock()
        var started = clock.now
        let versions = try runner.versions()
        let startup = (clock.now - started).seconds
        started = clock.now
        let first = try runner.run(source: identity, filename: "identity.py", fields: fieldList, data: loaded.data)
        let firstCall = (clock.now - started).seconds
        guard first.panel.values.elementsEqual(loaded.data.fields[fieldList[0]]!.values, by: { $0 == $1 || ($0.isNaN && $1.isNaN) }) else {
            throw CLIError("the identity factor did not return its input unchanged")
        }
        var times: [Double] = []
        for _ in 0..<max(1, calls) {
            started = clock.now
            _ = try runner.run(source: identity, filename: "identity.py", fields: fieldList, data: loaded.data)
            times.append((clock.now - started).seconds)
        }
        runner.shutdown()
        times.sort()
        let median = times[times.count / 2]
        let bytesIn = n * t * (8 * fieldList.count + 1), bytesOut = n * t * 8
        let megabytesPerSecond = Double(bytesIn + bytesOut) / median / 1e6
        if json {
            let figures: [String: Any] = ["instruments": n, "rows": t, "fields": fieldList, "bytes_in": bytesIn, "bytes_out": bytesOut,
                                          "startup_s": startup, "first_call_s": firstCall, "median_call_s": median,
                                          "min_call_s": times[0], "max_call_s": times[times.count - 1], "mb_per_s": megabytesPerSecond,
                                          "python": versions["python"] ?? "", "numpy": versions["numpy"] ?? "", "pandas": versions["pandas"] ?? ""]
            print(String(decoding: try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print("Python \(versions["python"] ?? "?"), numpy \(versions["numpy"] ?? "?"), pandas \(versions["pandas"] ?? "?") · \(directory), \(universe): \(n) instruments × \(t) rows, fields \(fieldList.joined(separator: ","))")
        print(String(format: "runner start (interpreter, numpy and pandas imported): %.3f s", startup))
        print(String(format: "first call (compiles the factor): %.1f ms", firstCall * 1000))
        print(String(format: "per call, %d calls: median %.1f ms (min %.1f, max %.1f) for %.1f MB in and %.1f MB out, %.0f MB/s; goal < 50 ms: %@",
                     times.count, median * 1000, times[0] * 1000, times[times.count - 1] * 1000, Double(bytesIn) / 1e6, Double(bytesOut) / 1e6,
                     megabytesPerSecond, median < 0.05 ? "met" : "NOT met"))
    }
}

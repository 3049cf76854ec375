import FactorCore
import Foundation

/// Runs Python factors in one reusable runner process (one per worker): checks their source, normalises it for
/// deduplication, and computes them on loaded market data. Calls are serialised; a call that times out, crashes or
/// runs out of memory kills the process and the next call starts a fresh one, so one factor's failure is its own.
public final class PythonFactorRunner: @unchecked Sendable {
    public let settings: PythonSettings
    private let log: (@Sendable (String) -> Void)?
    private let lock = NSLock()
    private var process: PythonProcess?
    /// Processes started so far (a restart after a failure counts).
    public private(set) var starts = 0

    /// `log` receives everything the runner writes to stderr (what factors print from C code, warnings).
    public init(settings: PythonSettings = .fromEnvironment(), log: (@Sendable (String) -> Void)? = nil) {
        self.settings = settings
        self.log = log
    }

    deinit { process?.stop() }

    /// A factor's module-level declarations.
    public struct Declaration: Sendable, Equatable {
        /// Field names, lower case, without `$`.
        public var fields: [String]
        /// Rows loaded before the window.
        public var lookback: Int

        public init(fields: [String], lookback: Int) {
            self.fields = fields
            self.lookback = lookback
        }
    }

    /// A computed factor: its panel (instruments × the data's rows) and what it printed (also sent to the log).
    public struct Output: Sendable {
        public var panel: Panel
        public var printed: String
    }

    /// The interpreter's versions (python, numpy, pandas), starting the runner if needed.
    public func versions() throws(PythonFailure) -> [String: String] {
        try withProcess { $0.versions }
    }

    /// Compiles and executes the module, and reads `fields` and `lookback`; refuses a source without `factor`.
    public func check(source: String, filename: String) throws(PythonFailure) -> Declaration {
        let frame = try request(["op": "check", "source": source, "filename": filename], arrays: [])
        return Declaration(fields: frame.header["fields"] as? [String] ?? [], lookback: frame.header["lookback"] as? Int ?? 0)
    }

    /// The source's syntax tree without comments, spacing or line numbers: equal for two ways of writing one module.
    public func normalize(source: String, filename: String) throws(PythonFailure) -> String {
        let frame = try request(["op": "normalize", "source": source, "filename": filename], arrays: [])
        return frame.header["normalized"] as? String ?? ""
    }

    /// Computes the factor on `data`: `data.fields` must hold every declared field (the caller loads them with the
    /// declared look-back). The function sees each field as float64 (instruments × rows), `mask` (membership),
    /// `dates` and `instruments`.
    public func run(source: String, filename: String, fields: [String], data: MarketData) throws(PythonFailure) -> Output {
        let n = data.instruments.count, t = data.calendar.count
        var panels: [Panel] = []
        for field in fields {
            guard let panel = data.fields[field] else {
                throw PythonFailure(.raised, "the factor declares the field \"\(field)\", which the data does not have (it has \(data.fieldNames.joined(separator: ", ")))")
            }
            panels.append(panel)
        }
        let mask = data.membership.denseMask().map { $0 ? UInt8(1) : 0 }
        let header: [String: Any] = [
            "op": "run", "source": source, "filename": filename, "shape": [n, t],
            "instruments": data.instruments, "dates": (0..<t).map { data.calendar.label($0) },
            "arrays": fields.map { ["name": $0, "dtype": "<f8"] } + [["name": "mask", "dtype": "|u1"]],
        ]
        let frame = try withBuffers(panels.map(\.values), mask) { arrays throws(PythonFailure) in try request(header, arrays: arrays) }
        guard frame.payload.count == n * t * 8 else {
            throw PythonFailure(.crashed, "the runner returned \(frame.payload.count) bytes for \(n) × \(t) values")
        }
        var values = [Double](repeating: .nan, count: n * t)
        values.withUnsafeMutableBytes { out in frame.payload.withUnsafeBytes { out.copyMemory(from: $0) } }
        let printed = frame.header["output"] as? String ?? ""
        if !printed.isEmpty { log?("\(filename) printed:\n\(printed)") }
        return Output(panel: Panel(instrumentCount: n, length: t, values: values), printed: printed)
    }

    /// Ends the runner process (a new call starts another).
    public func shutdown() {
        lock.lock(); defer { lock.unlock() }
        process?.stop()
        process = nil
    }

    private func request(_ header: [String: Any], arrays: [UnsafeRawBufferPointer]) throws(PythonFailure) -> PythonFrame {
        let timeout = settings.timeoutSeconds
        return try withProcess { p throws(PythonFailure) in try p.call(header, arrays: arrays, timeout: timeout) }
    }

    private func withProcess<T>(_ body: (PythonProcess) throws(PythonFailure) -> T) throws(PythonFailure) -> T {
        guard settings.enabled else {
            throw PythonFailure(.disabled, "Python factors are switched off on this host (FACTOR_PYTHON_FACTORS=off)")
        }
        lock.lock(); defer { lock.unlock() }
        if process?.isRunning != true {
            process = try PythonProcess(settings: settings, log: log)
            starts += 1
        }
        return try body(process!)
    }

    /// Runs `body` with raw views of the arrays (each field's values, then the mask).
    private func withBuffers<T>(_ values: [[Double]], _ mask: [UInt8],
                                _ body: ([UnsafeRawBufferPointer]) throws(PythonFailure) -> T) throws(PythonFailure) -> T {
        var result: Result<T, PythonFailure>?
        func nest(_ k: Int, _ collected: [UnsafeRawBufferPointer]) {
            if k == values.count {
                mask.withUnsafeBytes { m in
                    do throws(PythonFailure) { result = .success(try body(collected + [m])) } catch { result = .failure(error) }
                }
                return
            }
            values[k].withUnsafeBytes { v in nest(k + 1, collected + [v]) }
        }
        nest(0, [])
        return try result!.get()
    }
}

import FactorCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One runner process: `python -u runner.py` with the protocol on its stdin and stdout and its stderr drained into a
/// log. Calls are synchronous and bounded by a deadline; a call that overruns, or a process that dies, is killed and
/// reaped, and `isRunning` turns false so that the owner starts a fresh one.
final class PythonProcess: @unchecked Sendable {
    let settings: PythonSettings
    private let process = Process()
    private let toChild: Int32
    private let fromChild: Int32
    private let errors: StderrTail
    private var alive = true
    /// False once stopped, or when the process died between calls (the next call then starts a fresh one).
    var isRunning: Bool { alive && process.isRunning }
    /// Versions the runner reported (python, numpy, pandas).
    private(set) var versions: [String: String] = [:]

    /// Starts the runner and waits for its hello (numpy and pandas imported).
    init(settings: PythonSettings, log: (@Sendable (String) -> Void)?) throws(PythonFailure) {
        self.settings = settings
        Self.ignoreBrokenPipes
        let script: String
        do { script = try Self.installScript() } catch {
            throw PythonFailure(.unavailable, "cannot write the Python runner script: \(error)")
        }
        let input = Pipe(), output = Pipe(), stderr = Pipe()
        guard let executable = Self.locate(settings.interpreter) else {
            throw PythonFailure(.unavailable, "no Python interpreter '\(settings.interpreter)' here: run `factorlab python-setup`, "
                                + "or set FACTOR_PYTHON to a python with numpy and pandas")
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-u", script]
        process.environment = Self.environment(settings)
        process.standardInput = input
        process.standardOutput = output
        process.standardError = stderr
        errors = StderrTail(log: log)
        do { try process.run() } catch {
            throw PythonFailure(.unavailable, "cannot start the Python interpreter '\(settings.interpreter)': \(error.localizedDescription); "
                                + "run `factorlab python-setup`, or set FACTOR_PYTHON to a python with numpy and pandas")
        }
        toChild = input.fileHandleForWriting.fileDescriptor
        fromChild = output.fileHandleForReading.fileDescriptor
        // Panels are megabytes: 1 MB pipes (Linux's F_SETPIPE_SZ; the default is 64 KB) take a tenth of the wake-ups.
        for fd in [toChild, fromChild] { _ = fcntl(fd, 1031, 1 << 20) }
        // Keep the pipes' handles alive with the process; close the child's ends in this process.
        handles = [input, output]
        try? input.fileHandleForReading.close()
        try? output.fileHandleForWriting.close()
        try? stderr.fileHandleForWriting.close()
        // The drain thread owns its own descriptor and closes it at EOF: a closed-and-reused number can never make it
        // read a later runner's pipes.
        errors.drain(dup(stderr.fileHandleForReading.fileDescriptor))
        try? stderr.fileHandleForReading.close()
        // Non-blocking ends, so that the deadline holds while writing and reading.
        for fd in [toChild, fromChild] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        do {
            let hello = try call(["op": "hello"], arrays: [], timeout: max(60, settings.timeoutSeconds))
            versions = (hello.header as [String: Any]).compactMapValues { $0 as? String }
        } catch {
            stop()
            if error.kind == .raised {
                throw PythonFailure(.unavailable, "the Python interpreter '\(settings.interpreter)' cannot run factors: \(error.message); "
                                    + "run `factorlab python-setup`, or set FACTOR_PYTHON to a python with numpy and pandas", output: error.output)
            }
            throw PythonFailure(.unavailable, "the Python runner did not start: \(error.message)", output: error.output)
        }
    }

    private var handles: [Pipe] = []

    /// The interpreter's path: as given when it contains a slash, else the first match on PATH.
    static func locate(_ interpreter: String) -> String? {
        if interpreter.contains("/") { return FileManager.default.isExecutableFile(atPath: interpreter) ? interpreter : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(interpreter)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// What the runner's environment holds: the basics and Python's own settings, not the worker's secrets (database
    /// URLs, tokens), since the factor's code runs there.
    static func environment(_ settings: PythonSettings) -> [String: String] {
        let inherited = ProcessInfo.processInfo.environment
        var environment = inherited.filter { key, _ in
            ["PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "USER", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"].contains(key)
                || key.hasPrefix("OPENBLAS_") || key.hasPrefix("OMP_") || key.hasPrefix("MKL_")
        }
        environment["FACTOR_PYTHON_MEMORY_MB"] = String(settings.memoryMegabytes)
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        // One BLAS thread: the worker already runs a process per core, and idle BLAS threads reserve address space.
        for key in ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"] where environment[key] == nil { environment[key] = "1" }
        return environment
    }

    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// Writes the runner script under the cache directory, named by its content's hash, once.
    static func installScript() throws -> String {
        let directory = ((PythonSettings.defaultVenv as NSString).deletingLastPathComponent as NSString).appendingPathComponent("python")
        let path = (directory as NSString).appendingPathComponent("runner-\(SHA256Digest.hex(RunnerScript.source).prefix(12)).py")
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let temporary = path + ".\(getpid()).tmp"
            try RunnerScript.source.write(toFile: temporary, atomically: false, encoding: .utf8)
            _ = rename(temporary, path)
        }
        return path
    }

    /// Sends one request and waits for its response until `timeout` seconds have passed.
    func call(_ header: [String: Any], arrays: [UnsafeRawBufferPointer], timeout: Double) throws(PythonFailure) -> PythonFrame {
        guard isRunning else { throw PythonFailure(.crashed, "the Python process has ended") }
        _ = errors.take()  // what earlier calls left on stderr is not this call's output
        let deadline = Date().addingTimeInterval(timeout)
        let encoded: (head: [UInt8], arrays: [UnsafeRawBufferPointer])
        do { encoded = try PythonFrame.encode(header, arrays: arrays) } catch {
            throw PythonFailure(.raised, "the request cannot be encoded: \(error)")
        }
        do {
            try encoded.head.withUnsafeBytes { try writeAll($0, deadline: deadline) }
            for array in encoded.arrays { try writeAll(array, deadline: deadline) }
            let prefix = try readExactly(8, deadline: deadline)
            guard let length = PythonFrame.headerLength(prefix) else {
                throw PythonFailure(.crashed, "the Python runner answered with bytes that are not a frame")
            }
            let json = try readExactly(length, deadline: deadline)
            guard let header = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else {
                throw PythonFailure(.crashed, "the Python runner answered with a header that is not JSON")
            }
            let payload = try readExactly((header["payload_bytes"] as? Int) ?? 0, deadline: deadline)
            let frame = PythonFrame(header: header, payload: payload)
            if header["ok"] as? Bool != true {
                let memory = header["restart"] as? Bool == true
                if memory { stop() }
                throw PythonFailure(memory ? .memory : .raised, header["error"] as? String ?? "the factor failed",
                                    traceback: header["traceback"] as? String, line: header["line"] as? Int,
                                    output: (header["output"] as? String ?? "") + errors.take())
            }
            return frame
        } catch let failure as PythonFailure {
            var failure = failure
            if failure.kind == .timeout || failure.kind == .crashed {
                stop()
                let status = process.isRunning ? "" : " (exit status \(process.terminationStatus))"
                if failure.kind == .crashed { failure.message += status }
            }
            if failure.output.isEmpty { failure.output = errors.take() }
            throw failure
        } catch {
            stop()
            throw PythonFailure(.crashed, "\(error)", output: errors.take())
        }
    }

    /// Kills the process and reaps it.
    func stop() {
        guard alive else { return }
        alive = false
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        for pipe in handles {
            try? pipe.fileHandleForWriting.close()
            try? pipe.fileHandleForReading.close()
        }
        handles = []
        // Let the drain read the dead process's last words (a segfault's message) before a failure takes them.
        errors.waitForEnd(seconds: 1)
    }

    deinit { stop() }

    /// What the process wrote to stderr since the last call, kept for the task's log.
    func takeOutput() -> String { errors.take() }

    private func remaining(_ deadline: Date) throws(PythonFailure) -> Int32 {
        let seconds = deadline.timeIntervalSinceNow
        guard seconds > 0 else {
            throw PythonFailure(.timeout, "the factor ran longer than \(Format.seconds(settings.timeoutSeconds)) (FACTOR_PYTHON_TIMEOUT) and was stopped")
        }
        return Int32(min(seconds * 1000, 60_000).rounded(.up))
    }

    private func wait(_ fd: Int32, for events: Int16, deadline: Date) throws(PythonFailure) {
        while true {
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, try remaining(deadline))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw PythonFailure(.crashed, "poll failed: errno \(errno)") }
        }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, deadline: Date) throws(PythonFailure) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            try wait(toChild, for: Int16(POLLOUT), deadline: deadline)
            let n = write(toChild, base + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw PythonFailure(.crashed, "the Python process ended while receiving its input")
            }
            offset += n
        }
    }

    private func readExactly(_ count: Int, deadline: Date) throws(PythonFailure) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            try wait(fromChild, for: Int16(POLLIN), deadline: deadline)
            let n = buffer.withUnsafeMutableBytes { read(fromChild, $0.baseAddress! + offset, count - offset) }
            if n == 0 { throw PythonFailure(.crashed, "the Python process ended while computing") }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw PythonFailure(.crashed, "reading from the Python process failed: errno \(errno)")
            }
            offset += n
        }
        return buffer
    }
}

/// The runner's stderr, drained on its own thread so that the pipe never fills: forwarded line by line to the log,
/// and its recent part kept for the next failure message.
final class StderrTail: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    private let log: (@Sendable (String) -> Void)?
    static let limit = 20_000

    private let ended = DispatchSemaphore(value: 0)

    init(log: (@Sendable (String) -> Void)?) { self.log = log }

    /// Waits until the pipe reached EOF (the process and any child holding stderr are gone), or `seconds` passed.
    func waitForEnd(seconds: Double) {
        if ended.wait(timeout: .now() + seconds) == .success { ended.signal() }
    }

    func drain(_ fd: Int32) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            defer { close(fd); ended.signal() }
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
                if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
                let chunk = String(decoding: buffer[0..<n], as: UTF8.self)
                log?(chunk)
                lock.lock()
                text += chunk
                if text.utf8.count > Self.limit { text = String(text.suffix(Self.limit / 2)) }
                lock.unlock()
            }
        }
        thread.start()
    }

    /// The text received since the last call, and forgets it.
    func take() -> String {
        lock.lock(); defer { lock.unlock() }
        let t = text
        text = ""
        return t
    }
}

enum Format {
    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }
}

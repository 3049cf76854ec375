/// Why a Python call failed. A user error (an exception, bad shape) leaves the process serving; a timeout, a crash
/// or exhausted memory ends it, and the next call starts a fresh one.
public struct PythonFailure: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// The factor's code raised (or returned the wrong shape): the message and traceback say where.
        case raised
        /// The call ran past FACTOR_PYTHON_TIMEOUT and the process was killed.
        case timeout
        /// The process exited or was killed while computing (os._exit, a segfault, the kernel's OOM killer).
        case crashed
        /// The factor went past FACTOR_PYTHON_MEMORY_MB.
        case memory
        /// No usable interpreter: not found, or without numpy and pandas.
        case unavailable
        /// The operator switched the kind off (FACTOR_PYTHON_FACTORS=off).
        case disabled
    }

    public var kind: Kind
    public var message: String
    /// The traceback through the user's source (the runner's own frames removed).
    public var traceback: String?
    /// The line of the user's source where it failed, when known.
    public var line: Int?
    /// What the call printed, and the tail of the process's stderr.
    public var output: String

    public init(_ kind: Kind, _ message: String, traceback: String? = nil, line: Int? = nil, output: String = "") {
        self.kind = kind
        self.message = message
        self.traceback = traceback
        self.line = line
        self.output = output
    }

    public var description: String {
        var text = message
        if let traceback, !traceback.isEmpty { text += "\n" + traceback.trimmingSuffixNewlines }
        return text
    }
}

extension String {
    var trimmingSuffixNewlines: String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}

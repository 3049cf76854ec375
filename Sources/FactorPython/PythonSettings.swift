import Foundation

/// Where Python factors run and under which limits, from the environment:
/// `FACTOR_PYTHON` (the interpreter, else the venv `factorlab python-setup` made, else `python3`),
/// `FACTOR_PYTHON_TIMEOUT` (seconds per call, default 300), `FACTOR_PYTHON_MEMORY_MB` (address space a call may add,
/// default 4096; 0 for none) and `FACTOR_PYTHON_FACTORS=off` (an operator's switch that refuses the kind).
public struct PythonSettings: Sendable {
    public var interpreter: String
    public var timeoutSeconds: Double
    public var memoryMegabytes: Int
    public var enabled: Bool

    public init(interpreter: String, timeoutSeconds: Double = 300, memoryMegabytes: Int = 4096, enabled: Bool = true) {
        self.interpreter = interpreter
        self.timeoutSeconds = timeoutSeconds
        self.memoryMegabytes = memoryMegabytes
        self.enabled = enabled
    }

    /// The venv `factorlab python-setup` creates.
    public static var defaultVenv: String {
        let cache = ProcessInfo.processInfo.environment["FACTOR_CACHE_DIR"]
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/factorlab")
        return (cache as NSString).appendingPathComponent("python-venv")
    }

    /// The settings the environment gives.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> PythonSettings {
        let venvPython = (defaultVenv as NSString).appendingPathComponent("bin/python")
        let interpreter = environment["FACTOR_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (FileManager.default.isExecutableFile(atPath: venvPython) ? venvPython : "python3")
        let timeout = environment["FACTOR_PYTHON_TIMEOUT"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? 300
        let memory = environment["FACTOR_PYTHON_MEMORY_MB"].flatMap(Int.init).flatMap { $0 >= 0 ? $0 : nil } ?? 4096
        let switchedOff = ["off", "0", "false", "no"].contains(environment["FACTOR_PYTHON_FACTORS"]?.lowercased() ?? "")
        return PythonSettings(interpreter: interpreter, timeoutSeconds: timeout, memoryMegabytes: memory, enabled: !switchedOff)
    }
}

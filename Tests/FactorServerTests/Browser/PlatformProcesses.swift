import FactorPlatform
import FactorStore
import FactorTestSupport
import FactorPython
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `factorlab serve` and a real `factorlab worker`, started as processes on a fresh database, so the browser
/// talks to the platform exactly as a user's would, and CPU-heavy suites in this test process cannot starve it.
final class PlatformProcesses: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The real data when `../shared` is beside the package, else the synthetic demo market the server tests use.
    struct DataChoice {
        let directory: String
        let universe: String
        let window: String
        let isReal: Bool

        static var current: DataChoice {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent()
            let real = root.deletingLastPathComponent().appendingPathComponent("shared/data/cn_csi300_daily").path
            if FileManager.default.fileExists(atPath: real + "/instruments/csi300.txt") {
                return DataChoice(directory: real, universe: "csi300", window: "2023-01-03:2023-06-30", isReal: true)
            }
            return DataChoice(directory: ServerFixture.dataDirectory, universe: "core20", window: "2021-06-01:2022-06-30", isReal: false)
        }
    }

    let directory: String
    let database: String
    let port: Int
    let data: DataChoice
    private(set) var tokens: [Role: String] = [:]
    private var processes: [(name: String, process: Process, log: String)] = []

    var base: String { "http://127.0.0.1:\(port)" }

    init(data: DataChoice = .current) throws {
        guard let executable = FactorlabExecutable.path else { throw Failure(description: "the factorlab executable is not built") }
        self.data = data
        directory = NSTemporaryDirectory() + "factorlab-console-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        database = directory + "/platform.db"
        do {
            let store = try SQLiteFactorStore(path: database)
            let issuer = TokenService(store: store)
            for role in Role.allCases { tokens[role] = try issuer.create(name: role.rawValue, role: role, actor: "test").secret }
        }
        port = try Self.freeLoopbackPort()
        var environment = ProcessInfo.processInfo.environment
        environment["FACTOR_PLATFORM_DB"] = database
        // The server and worker run Python factors with the interpreter this process found (the cache folder below
        // would hide the default venv from them).
        environment["FACTOR_PYTHON"] = PythonSettings.fromEnvironment().interpreter
        if environment["FACTOR_CACHE_DIR"] == nil { environment["FACTOR_CACHE_DIR"] = directory + "/cache" }
        try start("serve", executable, ["serve", "--port", String(port), "--data", data.directory], environment)
        try start("worker", executable, ["worker", "--poll", "0.3", "--name", "console-e2e"], environment)
        try waitUntilHealthy(timeout: 120)
    }

    deinit { stop() }

    private func start(_ name: String, _ executable: String, _ arguments: [String], _ environment: [String: String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let log = directory + "/\(name).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try handle.close()
        processes.append((name, process, log))
    }

    /// SIGTERM to both (the worker releases its lease), then removes the directory.
    func stop() {
        for (_, process, _) in processes where process.isRunning { process.terminate() }
        for (_, process, _) in processes {
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        }
        processes = []
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The last lines each process logged, for failure messages.
    var logs: String {
        processes.map { p in
            let text = (try? String(contentsOfFile: p.log, encoding: .utf8)) ?? ""
            return "\(p.name) (\(p.process.isRunning ? "running" : "exited \(p.process.terminationStatus)")): " + text.suffix(800)
        }.joined(separator: "\n")
    }

    private func waitUntilHealthy(timeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if processes.contains(where: { !$0.process.isRunning }) { break }
            if (try? request("GET", "/healthz", token: nil).status) == 200 { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw Failure(description: "factorlab serve did not become healthy on port \(port)\n\(logs)")
    }

    /// One blocking HTTP request; returns the status and the parsed JSON body.
    func request(_ method: String, _ path: String, body: String? = nil, token: String?) throws -> (status: Int, json: Any?) {
        var request = URLRequest(url: URL(string: base + path)!, timeoutInterval: 30)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization") }
        let box = ReplyBox()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.store(status: (response as? HTTPURLResponse)?.statusCode, data: data, error: error)
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + 35) == .success else { throw Failure(description: "\(method) \(path): no answer in 35 s") }
        let (status, data, error) = box.load()
        guard let status else { throw Failure(description: "\(method) \(path) failed: \(error.map { "\($0)" } ?? "no response")") }
        return (status, data.flatMap { $0.isEmpty ? nil : try? JSONSerialization.jsonObject(with: $0) })
    }

    private final class ReplyBox: @unchecked Sendable {
        private let lock = NSLock()
        private var status: Int?
        private var data: Data?
        private var error: (any Error)?

        func store(status: Int?, data: Data?, error: (any Error)?) {
            lock.lock(); defer { lock.unlock() }
            self.status = status; self.data = data; self.error = error
        }

        func load() -> (Int?, Data?, (any Error)?) {
            lock.lock(); defer { lock.unlock() }
            return (status, data, error)
        }
    }

    /// A port the kernel just handed out on loopback (closed again at once, so the server can bind it).
    static func freeLoopbackPort() throws -> Int { try LoopbackPort.free() }
}

import FactorStore
import FactorTestSupport
import Foundation
import Testing

/// Real processes sharing one SQLite file: seeding and saving results at the same time.
@Suite("Concurrent factorlab processes on one database", .serialized)
struct ConcurrentProcessTests {
    static var executable: String? { FactorlabExecutable.path }

    struct Outcome { var status: Int32; var stderr: String }

    static func launch(_ arguments: [String], environment: [String: String]) throws -> (Process, Pipe) {
        try FactorlabExecutable.launch(arguments, environment: environment)
    }

    static func wait(_ launched: [(Process, Pipe)]) -> [Outcome] {
        launched.map { process, pipe in
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Outcome(status: process.terminationStatus, stderr: String(decoding: data, as: UTF8.self))
        }
    }

    @Test func twoWritersLoseNothingAndNeverSurfaceLocks() async throws {
        try await blocking {
            let dir = NSTemporaryDirectory() + "factorlab-procs-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let data = Fixture.dataDirectory
            let env = ["FACTOR_PLATFORM_DB": dir + "/shared.db", "FACTOR_CACHE_DIR": dir + "/cache", "FACTOR_USER": "ci"]
            func catalogue(_ prefix: String, _ expression: (Int) -> String) throws -> String {
                let entries = (1...20).map { "{\"code\":\"\(prefix)\($0)\",\"name\":\"\(prefix)\($0)\",\"expression\":\"\(expression($0))\",\"category\":\"test\"}" }
                let path = dir + "/\(prefix).json"
                try ("[" + entries.joined(separator: ",") + "]").write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }
            let a = try catalogue("A") { "$close/Ref($close,\($0))-1" }
            let b = try catalogue("B") { "Mean($close,\($0 + 1))/$close" }
            for round in 0..<2 {
                let launched = [
                    try Self.launch(["init-db", "--seed", a, "--data", data], environment: env),
                    try Self.launch(["init-db", "--seed", b, "--data", data], environment: env),
                    try Self.launch(["evaluate", "--data", data, "--universe", "core20", "--expr", "R5=Ref($close,5)/$close", "--expr", "V=Std($close,10)",
                                     "--horizons", "1,5", "--save", "--run-id", "run-x"], environment: env),
                    try Self.launch(["evaluate", "--data", data, "--universe", "all", "--expr", "K=($close-$open)/$open",
                                     "--horizons", "1", "--save", "--run-id", "run-y"], environment: env),
                ]
                for (k, outcome) in Self.wait(launched).enumerated() {
                    #expect(outcome.status == 0, "round \(round) process \(k): \(outcome.stderr)")
                    #expect(!outcome.stderr.lowercased().contains("locked"), "\(outcome.stderr)")
                }
            }
            let store = try SQLiteFactorStore(path: dir + "/shared.db")
            #expect(try store.factors(matching: FactorFilter()).count == 40)
            #expect(try store.results(matching: ResultFilter(runId: "run-x")).count == 4)  // 2 factors × 2 horizons, once
            #expect(try store.results(matching: ResultFilter(runId: "run-y")).count == 1)
            #expect(try store.audit(entity: nil, limit: 1000).filter { $0.action == "seed" }.count == 40)
        }
    }
}

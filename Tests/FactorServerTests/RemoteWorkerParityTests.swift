import FactorPlatform
import FactorStore
import FactorTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `worker --server` does what a local worker does: `--once`, `--concurrency`, SIGTERM gives leases back, and a
/// heartbeat the server refuses ends the attempt without sending results.
@Suite("Remote workers: parity with local ones")
struct RemoteWorkerParityTests {
    struct Outcome: Decodable { var taskId: String; var status: String; var worker: String; var results: Int }

    /// Registers `count` momentum factors and submits them in one job; returns the job id.
    static func submit(_ client: some TestClientProtocol, _ f: ServerFixture, count: Int, universes: String, batch: Int,
                       start: String = "2021-01-04", end: String = "2022-12-30") async throws -> String {
        let t = f.tokens
        let codes = (1...count).map { "M\($0)" }
        for (k, code) in codes.enumerated() {
            _ = try await client.call(.post, "/factors", "{\"code\":\"\(code)\",\"expression\":\"$close/Ref($close,\(k + 1))-1\"}",
                                      as: .researcher, tokens: t)
        }
        let body = "{\"factors\":[\(codes.map { "\"\($0)\"" }.joined(separator: ","))],\"includeDrafts\":true,\"universes\":\(universes),"
            + "\"start\":\"\(start)\",\"end\":\"\(end)\",\"batchSize\":\(batch)}"
        let (_, submitted) = try await client.call(.post, "/jobs", body, as: .researcher, tokens: t)
        return try #require(((submitted as? [String: Any])?["job"] as? [String: Any])?["id"] as? String)
    }

    static func environment(_ f: ServerFixture) throws -> [String: String] {
        ["FACTOR_TOKEN": try #require(f.tokens[.worker]), "FACTOR_CACHE_DIR": f.directory + "/cache", "FACTOR_PLATFORM_DB": f.directory + "/unused.db"]
    }

    /// The server's store. PostgreSQL is left out here: an in-process server whose handlers block the few
    /// cooperative threads on PostgreSQL round trips timed out under the full suite's load in CI. Workers on
    /// PostgreSQL are tested by multihost/faults.py; `serve --db postgres://` still wants a test of its own process.
    static let backends = ["sqlite"]

    @Test(arguments: backends)
    func onceRunsOneTaskAndConcurrencyRunsSeveralSlots(backend: String) async throws {
        let f = try ServerFixture(postgres: backend == "postgres")
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let jobId = try await Self.submit(client, f, count: 4, universes: "[\"core20\",\"all\"]", batch: 1)
            #expect(try f.store.tasks(jobId: jobId).count == 8)
            let server = "http://127.0.0.1:\(try #require(client.port))"
            let env = try Self.environment(f)
            var (status, out, log) = try await blocking {
                try FactorlabExecutable.output(["worker", "--server", server, "--once", "--name", "solo", "--json"], environment: env)
            }
            #expect(status == 0, "\(log)")
            let one = try JSONDecoder().decode([Outcome].self, from: out)
            #expect(one.count == 1 && one[0].status == "SUCCESS" && one[0].worker == "solo", "\(one)")
            #expect(try f.store.tasks(jobId: jobId).filter { $0.status == .success }.count == 1)
            let (pending, message) = try await client.call(.get, "/jobs/\(jobId)/summary.csv", as: .researcher, tokens: f.tokens)
            #expect(pending == 404 && "\(message ?? "")".contains("has no summary yet: it is RUNNING"), "\(message ?? "")")
            (status, out, log) = try await blocking {
                try FactorlabExecutable.output(["worker", "--server", server, "--until-empty", "--concurrency", "2", "--name", "pair", "--json"],
                                               environment: env)
            }
            #expect(status == 0, "\(log)")
            let rest = try JSONDecoder().decode([Outcome].self, from: out)
            #expect(rest.count == 7 && rest.allSatisfy { $0.status == "SUCCESS" }, "\(rest)")
            #expect(Set(rest.map(\.worker)) == ["pair#1", "pair#2"], "\(rest.map(\.worker))")
            #expect(try f.store.job(id: jobId)?.status == .success)
            // The summary the last task stored, served as CSV to any host.
            let stored = try #require(try f.store.jobSummary(id: jobId))
            var headers = HTTPFields()
            headers[.authorization] = "Bearer " + (try #require(f.tokens[.researcher]))
            let response = try await client.execute(uri: "/jobs/\(jobId)/summary.csv", method: .get, headers: headers)
            #expect(response.status == .ok && response.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(String(buffer: response.body) == stored.csv)
            #expect(stored.csv.split(separator: "\n").count == 1 + 8 * 3)  // a header, then 4 factors × 2 universes × 3 horizons
        }
    }

    @Test func sigtermGivesARemoteWorkersLeaseBack() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let jobId = try await Self.submit(client, f, count: 30, universes: "[\"all\"]", batch: 30)
            let taskId = try #require(try f.store.tasks(jobId: jobId).first?.id)
            let (process, err) = try FactorlabExecutable.launchCapturing(
                ["worker", "--server", "http://127.0.0.1:\(try #require(client.port))", "--name", "stopping"], environment: try Self.environment(f))
            let store = f.store
            let leased = try await blocking { try Self.waitUntil { try store.task(id: taskId)?.status == .running } }
            #expect(leased)
            kill(process.processIdentifier, SIGTERM)
            let log = try await blocking { FactorlabExecutable.finish(process, err).stderr }
            #expect(process.terminationStatus == 0, "\(log)")
            let task = try #require(try f.store.task(id: taskId))
            #expect(task.status == .pending && task.leaseOwner == nil && task.attempts == 0, "\(task)")
        }
    }

    @Test func aRefusedHeartbeatEndsTheAttemptWithoutSendingResults() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let jobId = try await Self.submit(client, f, count: 60, universes: "[\"all\"]", batch: 60, start: "2020-01-02")
            let taskId = try #require(try f.store.tasks(jobId: jobId).first?.id)
            let (process, err) = try FactorlabExecutable.launchCapturing(
                ["worker", "--server", "http://127.0.0.1:\(try #require(client.port))", "--once", "--lease-seconds", "1", "--json"],
                environment: try Self.environment(f))
            let store = f.store
            // As soon as the worker holds the task, the lease moves to someone else (as after a network cut).
            let stolen = try await blocking {
                try Self.waitUntil {
                    guard let task = try store.task(id: taskId), task.status == .running, let owner = task.leaseOwner else { return false }
                    try store.releaseTask(taskId: taskId, owner: owner)
                    return try store.leaseTask(id: taskId, owner: "thief", seconds: 600, now: Date().timeIntervalSince1970) != nil
                }
            }
            #expect(stolen)
            let (out, log) = try await blocking { FactorlabExecutable.finish(process, err) }
            #expect(process.terminationStatus == 0, "\(log)")
            let outcomes = (try? JSONDecoder().decode([Outcome].self, from: out)) ?? []
            #expect(outcomes.count == 1 && outcomes.first?.status == "LOST_LEASE", "\(outcomes) \(log)")
            #expect(log.contains("the server refused the heartbeat"), "\(log)")
            #expect(try f.store.task(id: taskId)?.leaseOwner == "thief")
            #expect(try f.store.results(matching: ResultFilter(runId: try #require(try f.store.job(id: jobId)?.runId))).isEmpty)
        }
    }

    static func waitUntil(seconds: Double = 30, _ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }
}

import ArgumentParser
import AsyncHTTPClient
import Dispatch
import FactorData
import FactorPlatform
import FactorServer
import FactorStore
import Foundation
import Hummingbird

struct BenchAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Load test on loopback: concurrent clients reading results and the leaderboard; prints throughput and latency percentiles.")

    @Option(help: "Concurrent clients.") var clients: Int = 50
    @Option(help: "Requests per client.") var requests: Int = 100
    @Option(help: "Stored factors (each with 3 horizons and a 250-row series).") var factors: Int = 50

    func run() async throws {
        let work = NSTemporaryDirectory() + "factorlab-bench-api-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let store = try SQLiteFactorStore(path: work + "/bench.db")
        try SyntheticMarket.write(to: work + "/data")
        let source = try DataSources.open(directory: work + "/data", kind: .csv, cacheDirectory: work + "/cache")
        let services = Services(store: store, validator: try ExpressionValidator(source: source), fields: Set(try source.fieldNames()),
                                dataDirectory: work + "/data", sourceKind: "csv")
        let secret = try TokenService(store: store).create(name: "bench", role: .researcher, actor: "bench").secret
        // Stored results to read.
        let series = (0..<250).map { ResultSeriesRow(date: "2023-\(String(format: "%03d", $0))", n: 300, ic: 0.01, rankIC: 0.02, longShort: 0.001,
                                                     groups: [0, 0, 0, 0, 0], turnoverTop: 0.1, turnoverBottom: 0.1, autocorr: 0.9) }
        var rows: [(result: ResultRecord, series: [ResultSeriesRow])] = []
        for k in 0..<factors {
            for h in [1, 5, 20] {
                var r = ResultRecord(key: ResultKey(runId: "bench", factorCode: "F\(k)", factorVersion: 1, universe: "csi300", frequency: "day",
                                                    start: "2019-01-02", end: "2023-12-29", horizon: h, settingsHash: "s"),
                                     createdAt: Clock.now(), delay: 1, quantiles: 5)
                r.n = 1200
                r.rankICIR = Double(k % 17) / 100
                r.icMean = Double(k % 7) / 1000
                rows.append((r, series))
            }
        }
        try store.saveResults(run: RunRecord(runId: "bench", createdAt: Clock.now(), kind: "bench", parameters: "{}"), results: rows, actor: "bench")

        let port = PortBox()
        let app = try APIServer.application(services, host: "127.0.0.1", port: 0) { await port.set($0) }
        let server = Task { try await app.runService() }
        defer { server.cancel() }
        var bound = 0
        for _ in 0..<200 {
            bound = await port.get()
            if bound != 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard bound != 0 else { throw CLIError("the server did not start") }
        let serverPort = bound

        let clock = ContinuousClock()
        let started = clock.now
        let total = clients * requests, factorCount = factors, perClient = requests, clientCount = clients
        // One keep-alive connection per client.
        var configuration = HTTPSender.configuration
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = clients
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let latencies: [Double]
        do {
            latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for c in 0..<clientCount {
                    group.addTask {
                        var mine: [Double] = []
                        for k in 0..<perClient {
                            let path = k % 2 == 0 ? "/leaderboard?top=10&horizon=1" : "/results?factor=F\((c * 31 + k) % factorCount)"
                            let t0 = ContinuousClock.now
                            let answer = try await HTTPSender.send("http://127.0.0.1:\(serverPort)\(path)", method: .GET,
                                                                   headers: [("Authorization", "Bearer " + secret)], timeout: 60, client: client)
                            guard answer.status == 200 else { throw CLIError("\(path) answered \(answer.status)") }
                            mine.append((ContinuousClock.now - t0).seconds)
                        }
                        return mine
                    }
                }
                var all: [Double] = []
                for try await part in group { all += part }
                return all
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        let elapsed = (clock.now - started).seconds
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000 }
        print(String(format: "%d clients × %d requests (alternating /leaderboard and /results, %d stored results): %d requests in %.2f s",
                     clients, requests, rows.count, total, elapsed))
        print(String(format: "throughput %.0f requests/s · latency p50 %.1f ms · p90 %.1f ms · p99 %.1f ms · max %.1f ms",
                     Double(total) / elapsed, percentile(0.5), percentile(0.9), percentile(0.99), (sorted.last ?? 0) * 1000))
    }
}

/// The port the server bound, set from its startup callback.
actor PortBox {
    private var value = 0
    func set(_ v: Int) { value = v }
    func get() -> Int { value }
}

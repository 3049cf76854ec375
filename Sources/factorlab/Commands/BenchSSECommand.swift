import ArgumentParser
import AsyncHTTPClient
import FactorData
import FactorPlatform
import FactorStore
import Foundation
import NIOCore

/// `factorlab bench sse`: many live-stream clients on one `factorlab serve` process (a child of this one, so its
/// memory is its own), events written to the database by this process while they listen. Prints connection time,
/// delivery rate and latency, the server's resident memory idle, with every client connected and after each round of
/// events (it must stay flat: a client costs a cursor, not a queue), and checks that every client got every event
/// once, in order.
struct BenchSSECommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sse",
        abstract: "Live-stream load on loopback: concurrent GET /events clients, events written meanwhile; prints delivery and the server's memory.")

    @Option(help: "Concurrent stream clients.") var clients: Int = 200
    @Option(help: "Rounds of events.") var rounds: Int = 4
    @Option(help: "Events per round (alerts written to the database).") var events: Int = 500

    func run() async throws {
        let work = NSTemporaryDirectory() + "factorlab-bench-sse-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let database = work + "/bench.db"
        let store = try SQLiteFactorStore(path: database)
        try SyntheticMarket.write(to: work + "/data")
        let secret = try TokenService(store: store).create(name: "bench", role: .researcher, actor: "bench").secret
        let port = try LoopbackPort.free()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        server.arguments = ["serve", "--db", database, "--port", String(port), "--data", work + "/data"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate(); server.waitUntilExit() } }
        let base = "http://127.0.0.1:\(port)"
        var up = false
        for _ in 0..<300 where !up {
            up = (try? await HTTPSender.send(base + "/healthz", method: .GET, timeout: 1))?.status == 200
            if !up { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard up else { throw CLIError("factorlab serve did not start on port \(port)") }
        func serverMB() -> Double { LoopbackPort.residentMegabytes(pid: server.processIdentifier) }
        let idle = serverMB()

        var configuration = HTTPSender.configuration
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = clients + 10
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let tally = StreamTally(clients: clients)
        let expected = rounds * events
        let clock = ContinuousClock()
        let connectStart = clock.now
        let readers = (0..<clients).map { index in
            Task { () throws -> [Int64] in
                var request = HTTPClientRequest(url: base + "/events")
                request.headers.add(name: "Authorization", value: "Bearer " + secret)
                request.headers.add(name: "Accept", value: "text/event-stream")
                let response = try await client.execute(request, timeout: .seconds(600))
                guard response.status.code == 200 else { throw CLIError("GET /events answered \(response.status.code)") }
                var ids: [Int64] = []
                var pending = ""
                var connected = false
                for try await buffer in response.body {
                    if !connected { connected = true; await tally.connected() }
                    pending += String(buffer: buffer)
                    while let end = pending.range(of: "\n\n") {
                        let block = pending[..<end.lowerBound]
                        if block.hasPrefix("id: "), let id = Int64(block.dropFirst(4).prefix { $0 != "\n" }) { ids.append(id) }
                        pending.removeSubrange(..<end.upperBound)
                    }
                    if ids.count >= expected { break }
                    await tally.received(index, ids.count)
                }
                await tally.received(index, ids.count)
                return ids
            }
        }
        while await tally.connectedCount < clients {
            try await Task.sleep(for: .milliseconds(20))
            if clock.now - connectStart > .seconds(60) { throw CLIError("only \(await tally.connectedCount) of \(clients) clients connected in 60 s") }
        }
        let connectSeconds = (clock.now - connectStart).seconds
        try await Task.sleep(for: .milliseconds(500))
        let connectedMB = serverMB()
        print(String(format: "%d clients connected in %.2f s · server resident memory %.1f MB idle, %.1f MB with every client connected (%.0f KB per client)",
                     clients, connectSeconds, idle, connectedMB, (connectedMB - idle) * 1024 / Double(clients)))
        var roundMB: [Double] = []
        let produced = clock.now
        for round in 0..<rounds {
            let roundStart = clock.now
            for batch in stride(from: 0, to: events, by: 50) {
                try store.insertAlerts((batch..<min(events, batch + 50)).map {
                    AlertRecord(rule: "bench", severity: "info", subject: "event \(round * events + $0)", message: "live stream load", jobId: nil,
                                createdAt: Clock.now())
                })
            }
            let target = (round + 1) * events
            while await tally.slowest < target {
                try await Task.sleep(for: .milliseconds(10))
                if clock.now - roundStart > .seconds(120) { throw CLIError("round \(round + 1): the slowest client has \(await tally.slowest) of \(target) events after 120 s") }
            }
            let seconds = (clock.now - roundStart).seconds
            roundMB.append(serverMB())
            print(String(format: "round %d: %d events written, every client had them %.2f s after the first was written (%.0f deliveries/s) · server %.1f MB",
                         round + 1, events, seconds, Double(events * clients) / seconds, roundMB.last ?? 0))
        }
        let totalSeconds = (clock.now - produced).seconds
        var complete = 0
        for reader in readers {
            let ids = try await reader.value
            if ids.count == expected && zip(ids, ids.dropFirst()).allSatisfy({ $0 < $1 }) { complete += 1 }
        }
        try await client.shutdown()
        let growth = (roundMB.last ?? 0) - (roundMB.first ?? 0)
        print(String(format: "%d of %d clients got all %d events once, in order (%d deliveries in %.1f s) · server memory from round 1 to round %d: %+.1f MB",
                     complete, clients, expected, expected * clients, totalSeconds, rounds, growth))
        guard complete == clients else { throw CLIError("\(clients - complete) clients missed or repeated events") }
        // Bounded: what the server holds does not grow with events delivered (the hub keeps at most 4,096 in memory).
        print(growth < 32 ? "goal met: memory flat across rounds (< 32 MB growth)" : "goal missed: memory grew \(String(format: "%.1f", growth)) MB across rounds")
    }
}

/// How far each stream client has read.
actor StreamTally {
    private var counts: [Int]
    private(set) var connectedCount = 0

    init(clients: Int) { counts = Array(repeating: 0, count: clients) }
    func connected() { connectedCount += 1 }
    func received(_ client: Int, _ n: Int) { counts[client] = n }
    var slowest: Int { counts.min() ?? 0 }
}

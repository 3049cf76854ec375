import AsyncHTTPClient
import FactorPlatform
import FactorServer
import FactorStore
import FactorTestSupport
import Foundation
import HummingbirdTesting
import NIOCore
import Testing

/// One Server-Sent Event as a client parses it.
struct SSEEvent: Sendable, Equatable {
    var id: Int64
    var kind: String
    var data: String
}

/// Reads `GET /events` over a real connection (AsyncHTTPClient) until `enough` says so, then drops the connection.
enum SSEClient {
    static func read(_ url: String, token: String, lastEventId: Int64? = nil, timeout: Duration = .seconds(60),
                     enough: @escaping @Sendable ([SSEEvent]) -> Bool) async throws -> (status: Int, events: [SSEEvent]) {
        try await withThrowingTaskGroup(of: (Int, [SSEEvent])?.self) { group in
            group.addTask {
                var request = HTTPClientRequest(url: url)
                request.headers.add(name: "Authorization", value: "Bearer " + token)
                request.headers.add(name: "Accept", value: "text/event-stream")
                if let lastEventId { request.headers.add(name: "Last-Event-ID", value: String(lastEventId)) }
                let response = try await HTTPSender.client.execute(request, timeout: .seconds(120))
                guard response.status.code == 200 else { return (Int(response.status.code), []) }
                var events: [SSEEvent] = []
                var pending = ""
                for try await buffer in response.body {
                    pending += String(buffer: buffer)
                    while let end = pending.range(of: "\n\n") {
                        let block = String(pending[..<end.lowerBound])
                        pending.removeSubrange(..<end.upperBound)
                        var id: Int64?, kind = "message", data = ""
                        for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                            if line.hasPrefix("id: ") { id = Int64(line.dropFirst(4)) }
                            else if line.hasPrefix("event: ") { kind = String(line.dropFirst(7)) }
                            else if line.hasPrefix("data: ") { data += line.dropFirst(6) }
                        }
                        if let id { events.append(SSEEvent(id: id, kind: kind, data: data)) }
                    }
                    if enough(events) { return (200, events) }
                }
                return (200, events)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else { throw CancellationError() }
            return (first.0, first.1)
        }
    }
}

@Suite("The live event stream", .serialized)
struct EventStreamTests {
    @Test(arguments: [false, true])
    func aClientThatDisconnectsMidJobAndResumesGetsEveryEventOnceInOrder(postgres: Bool) async throws {
        if postgres && !TestPostgres.available { print(TestPostgres.skipNote); return }
        let f = try ServerFixture(postgres: postgres)
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let t = f.tokens
            let base = "http://127.0.0.1:\(try #require(client.port))"
            for (code, expression) in [("MOM5", "$close/Ref($close,5)-1"), ("REV10", "Ref($close,10)/$close-1"), ("VOLR", "$volume/Mean($volume,20)")] {
                _ = try await client.call(.post, "/factors", "{\"code\":\"\(code)\",\"expression\":\"\(expression)\"}", as: .researcher, tokens: t)
                _ = try await client.call(.post, "/factors/\(code)/submit-review", as: .researcher, tokens: t)
                _ = try await client.call(.post, "/factors/\(code)/approve", as: .reviewer, tokens: t)
            }
            let before = try f.store.latestEventId()
            #expect(before > 0, "approvals are in the log")
            // Bad resume points are refused, naming the header.
            let plain = try await SSEClient.read(base + "/events", token: t[.researcher]!, lastEventId: nil, timeout: .seconds(10)) { _ in true }
            #expect(plain.status == 200)
            let (badStatus, badBody) = try await client.call(.get, "/events?after=soon", as: .researcher, tokens: t)
            #expect(badStatus == 400 && "\(String(describing: badBody))".contains("after"))
            #expect(try await client.call(.get, "/events", as: .worker, tokens: t).status == 403)

            let (status, created) = try await client.call(.post, "/jobs", #"{"factors":["MOM5","REV10","VOLR"],"universes":["core20"],"start":"2021-06-01","end":"2021-12-31","horizons":[1],"batchSize":1}"#,
                                                          as: .researcher, tokens: t)
            #expect(status == 201)
            let jobId = try #require(((created as? [String: Any])?["job"] as? [String: Any])?["id"] as? String)
            // The first client follows from before the job; one task ends; the client goes away.
            let store = f.store
            let first = try #require(try store.leaseTask(owner: "by-hand", seconds: 60, now: Date().timeIntervalSince1970))
            #expect(try store.completeTask(taskId: first.task.id, owner: "by-hand",
                                           run: RunRecord(runId: first.job.runId, createdAt: Clock.now(), kind: "job", parameters: "{}"),
                                           results: [], now: Date().timeIntervalSince1970))
            let (s1, seen) = try await SSEClient.read(base + "/events", token: t[.researcher]!, lastEventId: before) { events in
                events.contains { $0.kind == "task.finished" }
            }
            #expect(s1 == 200 && seen.map(\.kind) == ["job.submitted", "task.finished"], "\(seen.map(\.kind))")
            // While nobody listens, the rest of the job runs: two tasks, the end, the alerts.
            _ = try await blocking { Worker(store: store, options: .init(name: "w", mode: .untilEmpty, pollSeconds: 0.05)).run().count }
            let all = try store.events(after: before, upTo: nil, jobId: nil, limit: 1000)
            #expect(all.contains { $0.kind == "job.succeeded" })
            // The second connection resumes from the last id it saw and gets the rest exactly once, in order.
            let (s2, rest) = try await SSEClient.read(base + "/events", token: t[.researcher]!, lastEventId: seen.last!.id) { events in
                events.last?.id == all.last?.id
            }
            #expect(s2 == 200)
            let received = seen + rest
            #expect(received.map(\.id) == all.map(\.id), "\(received.map(\.id)) vs \(all.map(\.id))")
            #expect(received.map(\.kind) == all.map(\.kind))
            #expect(Set(received.map(\.id)).count == received.count)
            let progress = received.filter { $0.kind == "task.finished" }.compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.data.utf8)) as? [String: Any])?["data"] as? [String: Any]
            }
            #expect(progress.compactMap { $0["total"] as? Int } == [3, 3, 3] && progress.last?["done"] as? Int == 3)
            // ?job= keeps one job's events; after=0 replays them from the start of the log.
            let (_, oneJob) = try await SSEClient.read(base + "/events?job=\(jobId)&after=0", token: t[.reviewer]!) { events in
                events.contains { $0.kind == "job.succeeded" }
            }
            #expect(oneJob.first?.kind == "job.submitted" && !oneJob.contains { $0.kind == "factor.approved" })
            #expect(oneJob.map(\.id) == all.filter { $0.jobId == jobId }.prefix(oneJob.count).map(\.id))
        }
    }
}

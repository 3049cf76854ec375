import FactorCore
import FactorData
import FactorPlatform
import FactorServer
import FactorStore
import FactorTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// What the receiving server saw.
final class Received: @unchecked Sendable {
    struct Hit { var event: String; var delivery: String; var timestamp: String; var signature: String; var body: String; var answered: Int }
    private var hits: [Hit] = []
    private let lock = NSLock()
    let failFirst: Int

    init(failFirst: Int) { self.failFirst = failFirst }

    func record(_ hit: Hit) -> Int {
        lock.lock(); defer { lock.unlock() }
        var h = hit
        h.answered = hits.count < failFirst ? 500 : 200
        hits.append(h)
        return h.answered
    }

    var all: [Hit] { lock.lock(); defer { lock.unlock() }; return hits }
}

@Suite("Webhooks to a real receiver on loopback", .serialized)
struct WebhookTests {
    @Test func everyEventArrivesSignedOnceAfterFailures() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await Self.withReceiver(failFirst: 3) { url, received in
            try await f.app().test(.live) { client in
                let t = f.tokens
                let (status, created) = try await client.call(.post, "/subscriptions",
                    "{\"url\":\"\(url)\",\"events\":[\"factor.approved\",\"job.succeeded\"],\"secret\":\"0123456789abcdef-secret\"}",
                    as: .researcher, tokens: t)
                #expect(status == 201)
                let subscription = try #require((created as? [String: Any])?["id"] as? String)
                #expect(try await client.call(.post, "/subscriptions", #"{"url":"ftp://x","events":["job.succeeded"]}"#, as: .researcher, tokens: t).status == 400)
                #expect(try await client.call(.post, "/subscriptions", #"{"url":"http://x.test/h","events":["job.exploded"]}"#, as: .researcher, tokens: t).status == 400)
                // Two events: a factor approved, then a job succeeding.
                _ = try await client.call(.post, "/factors", #"{"code":"MOM5","expression":"$close/Ref($close,5)-1"}"#, as: .researcher, tokens: t)
                _ = try await client.call(.post, "/factors/MOM5/submit-review", as: .researcher, tokens: t)
                #expect(try await client.call(.post, "/factors/MOM5/approve", as: .reviewer, tokens: t).status == 200)
                #expect(try await client.call(.post, "/jobs", #"{"factors":["MOM5"],"universes":["core20"],"start":"2021-06-01","end":"2021-12-31","horizons":[1]}"#,
                                              as: .researcher, tokens: t).status == 201)
                let store = f.store
                _ = try await blocking { Worker(store: store, options: .init(name: "w", mode: .untilEmpty, pollSeconds: 0.05)).run().count }
                // Deliver, with the clock moved past each backoff, until the outbox is empty.
                let deliverer = WebhookDeliverer(store: f.store, baseBackoff: 1)
                var clock = Date().timeIntervalSince1970
                for _ in 0..<20 {
                    await deliverer.deliverDue(now: clock)
                    if try f.store.deliveries(subscriptionId: subscription).allSatisfy({ $0.status == .delivered }) { break }
                    clock += 3600
                }
                let deliveries = try f.store.deliveries(subscriptionId: subscription)
                #expect(deliveries.map(\.event) == [.factorApproved, .jobSucceeded])
                #expect(deliveries.allSatisfy { $0.status == .delivered })
                #expect(deliveries.map(\.attempts).reduce(0, +) == 5)  // three failures absorbed, then one success each
                // Nothing is sent again once delivered.
                await deliverer.deliverDue(now: clock + 10_000)
                let hits = received.all
                #expect(hits.count == 5)
                let successful = hits.filter { $0.answered == 200 }
                #expect(successful.map(\.event).sorted() == ["factor.approved", "job.succeeded"])
                #expect(Set(successful.map(\.delivery)).count == 2)
                for hit in hits {
                    #expect(hit.signature == WebhookDeliverer.signature(secret: "0123456789abcdef-secret", timestamp: hit.timestamp, body: hit.body))
                    #expect(hit.signature != WebhookDeliverer.signature(secret: "wrong-secret-0000", timestamp: hit.timestamp, body: hit.body))
                }
                let approved = try #require(successful.first { $0.event == "factor.approved" })
                #expect(approved.body.contains("\"code\":\"MOM5\"") && approved.body.contains("\"by\":\"reviewer\""))
                let (_, listed) = try await client.call(.get, "/subscriptions/\(subscription)/deliveries", as: .reviewer, tokens: t)
                #expect((listed as? [[String: Any]])?.count == 2)
                let (_, subscriptions) = try await client.call(.get, "/subscriptions", as: .reviewer, tokens: t)
                #expect(((subscriptions as? [[String: Any]])?.first?["secret"]) == nil)  // secrets are never listed
            }
        }
    }

    /// A receiver on loopback that records every hit and answers 500 to the first `failFirst`, then 200.
    static func withReceiver(failFirst: Int = 0, _ body: @Sendable (_ url: String, _ received: Received) async throws -> Void) async throws {
        let received = Received(failFirst: failFirst)
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let h = request.headers
            func header(_ name: String) -> String { HTTPField.Name(name).flatMap { h[$0] } ?? "" }
            return Response(status: .init(code: received.record(.init(event: header("X-FactorLab-Event"), delivery: header("X-FactorLab-Delivery"),
                                                                         timestamp: header("X-FactorLab-Timestamp"),
                                                                         signature: header("X-FactorLab-Signature"), body: text, answered: 0))))
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            try await body("http://127.0.0.1:\(try #require(client.port))/hook", received)
        }
    }

    @Test func twoDeliverersOnOneOutboxSendEachDeliveryOnce() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await Self.withReceiver { url, received in
            try f.store.insertSubscription(SubscriptionRecord(id: "s1", url: url, events: [.alertRaised], secret: "0123456789abcdef-secret",
                                                              createdAt: Clock.now()), actor: "test")
            try f.store.insertAlerts((0..<40).map { AlertRecord(rule: "coverage", severity: "warning", subject: "F\($0)", message: "m",
                                                                   jobId: nil, createdAt: Clock.now()) })
            // Small batches, so the two senders interleave their claims.
            let first = WebhookDeliverer(store: f.store), second = WebhookDeliverer(store: f.store)
            for _ in 0..<10 {
                async let a = first.deliverDue(limit: 3)
                async let b = second.deliverDue(limit: 3)
                _ = await (a, b)
            }
            let hits = received.all
            #expect(hits.count == 40, "\(hits.count) hits for 40 deliveries")
            #expect(Set(hits.map(\.delivery)).count == 40)
            #expect(try f.store.deliveries(subscriptionId: "s1").allSatisfy { $0.status == .delivered && $0.attempts == 1 })
        }
    }

    @Test func aWorkerProcessSendsItsJobsWebhookWithNoServerRunning() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await Self.withReceiver { url, received in
            try f.store.insertSubscription(SubscriptionRecord(id: "s1", url: url, events: [.jobSucceeded], secret: "0123456789abcdef-secret",
                                                              createdAt: Clock.now()), actor: "test")
            try f.services.registry.register(FactorDraft(code: "MOM5", expression: "$close/Ref($close, 5) - 1"), actor: "test")
            let environment = ["FACTOR_PLATFORM_DB": f.directory + "/api.db", "FACTOR_CACHE_DIR": f.directory + "/cache"]
            let data = ServerFixture.dataDirectory
            let (submitted, submitLog) = try await blocking {
                try FactorlabExecutable.run(["submit-job", "MOM5", "--include-drafts", "--data", data, "--instruments", "core20", "--start", "2021-06-01",
                         "--end", "2021-12-31", "--horizons", "1"], environment: environment)
            }
            #expect(submitted == 0, "\(submitLog)")
            let (worked, workLog) = try await blocking { try FactorlabExecutable.run(["worker", "--until-empty", "--poll", "0.1"], environment: environment) }
            #expect(worked == 0, "\(workLog)")
            let hits = received.all
            #expect(hits.map(\.event) == ["job.succeeded"], "\(workLog)")
            #expect(try f.store.deliveries(subscriptionId: "s1").map(\.status) == [.delivered])
        }
    }
}

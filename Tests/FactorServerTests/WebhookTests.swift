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
    struct Hit { var event: String; var delivery: String; var timestamp: String; var signature: String; var body: String; var answered: Int
                 var eventId = "" }
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
        let router = receiverRouter(received)
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            try await body("http://127.0.0.1:\(try #require(client.port))/hook", received)
        }
    }

    /// The same receiver on a fixed port, running as a real server (the live test client would pick its own port), so
    /// that a subscription made while nothing listened there reaches it once it is up.
    static func withReceiver(onPort port: Int, _ body: @Sendable (_ received: Received) async throws -> Void) async throws {
        let received = Received(failFirst: 0)
        let app = Application(router: receiverRouter(received), configuration: .init(address: .hostname("127.0.0.1", port: port)))
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        defer { server.cancel() }
        for _ in 0..<100 where !(await HTTPSenderProbe.accepts(port: port)) { try await Task.sleep(for: .milliseconds(50)) }
        try await body(received)
    }

    static func receiverRouter(_ received: Received) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let h = request.headers
            func header(_ name: String) -> String { HTTPField.Name(name).flatMap { h[$0] } ?? "" }
            return Response(status: .init(code: received.record(.init(event: header("X-FactorLab-Event"), delivery: header("X-FactorLab-Delivery"),
                                                                         timestamp: header("X-FactorLab-Timestamp"),
                                                                         signature: header("X-FactorLab-Signature"), body: text, answered: 0,
                                                                         eventId: header("X-FactorLab-Event-Id")))))
        }
        return router
    }

    @Test func aReceiverDownForTheWholeScheduleGetsTheDeadDeliveryOnceRedelivered() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        let port = try PlatformProcesses.freeLoopbackPort()
        try f.store.insertSubscription(SubscriptionRecord(id: "s1", url: "http://127.0.0.1:\(port)/hook", events: [.alertRaised],
                                                          secret: "0123456789abcdef-secret", createdAt: Clock.now()), actor: "test")
        try f.store.insertAlerts([AlertRecord(rule: "coverage", severity: "warning", subject: "F1", message: "m", jobId: nil, createdAt: Clock.now())])
        // Nothing listens on the port: every attempt of the schedule is refused, and the delivery is dead.
        let deliverer = WebhookDeliverer(store: f.store, maxAttempts: 4, baseBackoff: 1, timeout: 2)
        var clock = Date().timeIntervalSince1970
        for _ in 0..<6 {
            await deliverer.deliverDue(now: clock)
            clock += 3600
        }
        let dead = try #require(try f.store.deliveries(status: .dead, subscriptionId: nil, limit: 10).first)
        #expect(dead.attempts == 4 && dead.lastError?.contains("refused") == true, "\(dead)")
        let eventId = try #require(WebhookBody.eventId(of: dead.payload))
        try await f.app().test(.live) { client in
            let t = f.tokens
            let (listedStatus, listed) = try await client.call(.get, "/deliveries?status=dead", as: .reviewer, tokens: t)
            #expect(listedStatus == 200 && (listed as? [[String: Any]])?.map { $0["id"] as? Int } == [Int(dead.id)])
            #expect(try await client.call(.get, "/deliveries?status=failed", as: .reviewer, tokens: t).status == 400)
            // The receiver comes up; the dead delivery is redelivered and arrives once, with the event id it had.
            try await Self.withReceiver(onPort: port) { received in
                let (status, answer) = try await client.call(.post, "/deliveries/redeliver", #"{"dead": true}"#, as: .researcher, tokens: t)
                #expect(status == 200 && (answer as? [String: Any])?["redelivered"] as? [Int] == [Int(dead.id)])
                // The server's own deliverer may be the one that sends it: wait until the outbox says delivered.
                for _ in 0..<50 {
                    await deliverer.deliverDue()
                    if try f.store.deliveries(status: .delivered, subscriptionId: "s1", limit: 10).count == 1 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                try await Task.sleep(for: .milliseconds(300))
                let hits = received.all
                #expect(hits.count == 1 && hits.first?.eventId == eventId && hits.first?.body == dead.payload, "\(hits)")
                let state = try f.store.deliveries(status: nil, subscriptionId: "s1", limit: 10)
                #expect(state.map(\.status) == [.delivered] && state.map(\.id) == [dead.id], "\(state)")
                #expect(try await client.call(.post, "/deliveries/redeliver", #"{"ids": [\#(dead.id)]}"#, as: .researcher, tokens: t).json
                        .flatMap { ($0 as? [String: Any])?["redelivered"] as? [Int] } == [])
            }
        }
    }

    @Test func theCLISubscribesListsRedeliversAndUnsubscribes() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        let db = f.directory + "/cli.db"
        @Sendable func cli(_ arguments: [String]) throws -> (status: Int32, json: Any?, stderr: String) {
            let (status, out, err) = try FactorlabExecutable.output(arguments + ["--db", db])
            return (status, try? JSONSerialization.jsonObject(with: out), err)
        }
        try await blocking {
            let made = try cli(["subscribe", "--to", "http://127.0.0.1:9/hook", "--events", "alert.raised", "--json"])
            let id = try #require((made.json as? [String: Any])?["id"] as? String, "\(made.stderr)")
            #expect(((made.json as? [String: Any])?["secret"] as? String)?.count == 32)
            #expect(try cli(["subscribe", "--to", "ftp://x", "--json"]).status == 64)
            #expect(try cli(["subscribe", "--to", "http://x.test/h", "--events", "job.exploded", "--json"]).status == 64)
            let listed = try cli(["subscriptions", "--json"]).json as? [[String: Any]]
            #expect(listed?.map { $0["id"] as? String } == [id] && listed?.first?["secret"] == nil)
            // A dead delivery, redelivered from the CLI with --dead.
            let store = try SQLiteFactorStore(path: db)
            try store.insertAlerts([AlertRecord(rule: "coverage", severity: "warning", subject: "F", message: "m", jobId: nil, createdAt: Clock.now())])
            let delivery = try #require(try store.deliveries(subscriptionId: id).first)
            try store.markAttemptFailed(id: delivery.id, error: "refused", nextAttemptAt: 0, giveUp: true)
            #expect((try cli(["deliveries", "--status", "dead", "--json"]).json as? [[String: Any]])?.count == 1)
            #expect(try cli(["redeliver", "--json"]).status == 64)
            #expect((try cli(["redeliver", "--dead", "--json"]).json as? [String: Any])?["redelivered"] as? [Int] == [Int(delivery.id)])
            #expect(try cli(["unsubscribe", id, "--json"]).status == 0)
            #expect((try cli(["subscriptions", "--json"]).json as? [Any])?.isEmpty == true)
            #expect(try cli(["unsubscribe", id, "--json"]).status == 65)

            // Other channels and filters: a Slack bot for one factor's alerts, an email list; secrets refused where
            // a channel has none; the listing hides the bot's URL path.
            let slack = try cli(["subscribe", "--kind", "slack", "--to", "https://hooks.slack.com/services/T0/B0/XYZ", "--events", "alert.raised",
                                 "--factors", "MOM5", "--alert-rules", "ic_drop,coverage", "--json"])
            #expect(slack.status == 0, "\(slack.stderr)")
            #expect((slack.json as? [String: Any])?["secret"] == nil)
            #expect(try cli(["subscribe", "--kind", "email", "--to", "quant@example.org,lead@example.org", "--json"]).status == 0)
            let badAddress = try cli(["subscribe", "--kind", "email", "--to", "quant@example.org,not-an-address", "--json"])
            #expect(badAddress.status == 64 && badAddress.stderr.contains("not-an-address"))
            #expect(try cli(["subscribe", "--kind", "wecom", "--to", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "--secret", "x", "--json"]).status == 64)
            #expect(try cli(["subscribe", "--kind", "pager", "--to", "https://x.test", "--json"]).stderr.contains("unknown kind 'pager'"))
            let channels = try cli(["subscriptions", "--json"]).json as? [[String: Any]] ?? []
            let bot = try #require(channels.first { $0["kind"] as? String == "slack" })
            #expect(bot["url"] as? String == "https://hooks.slack.com/…" && bot["filter"] as? String == "factors MOM5 · alerts ic_drop,coverage")
            #expect(channels.first { $0["kind"] as? String == "email" }?["url"] as? String == "quant@example.org,lead@example.org")

            // Alert rules from the CLI.
            #expect(try cli(["set-alert-rule", "ic_drop", "--threshold", "0.05", "--universes", "csi300", "--mute", "--json"]).status == 0)
            let rules = try cli(["alert-rules", "--json"]).json as? [[String: Any]] ?? []
            let icDrop = try #require(rules.first { $0["id"] as? String == "ic_drop" })
            #expect(icDrop["threshold"] as? Double == 0.05 && icDrop["muted"] as? Bool == true
                    && (icDrop["scope"] as? [String: Any])?["universes"] as? [String] == ["csi300"])
            #expect(try cli(["set-alert-rule", "ic_drop", "--no-mute", "--json"]).status == 0)
            #expect((try cli(["alert-rules", "--json"]).json as? [[String: Any]])?.first { $0["id"] as? String == "ic_drop" }?["muted"] as? Bool == false)
            let badRule = try cli(["set-alert-rule", "coverage", "--threshold", "2", "--json"])
            #expect(badRule.status == 64 && badRule.stderr.contains("--threshold"))
            #expect(try cli(["remove-alert-rule", "nan_ratio", "--json"]).status == 0)
            #expect(try cli(["remove-alert-rule", "nan_ratio", "--json"]).status == 65)
            let alertId = try #require(try store.alerts(limit: 1).first?.id)
            #expect((try cli(["acknowledge-alert", String(alertId), "--json"]).json as? [String: Any])?["acknowledgedBy"] != nil)
            #expect((try cli(["alerts", "--open", "--json"]).json as? [Any])?.isEmpty == true)
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

/// Whether something accepts TCP connections on a loopback port.
enum HTTPSenderProbe {
    static func accepts(port: Int) async -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

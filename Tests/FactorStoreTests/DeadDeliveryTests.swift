import FactorStore
import FactorTestSupport
import Foundation
import Testing

@Suite("Dead deliveries: listed and redelivered with their event id")
struct DeadDeliveryTests {
    @Test(arguments: Backend.available)
    func aDeliveryWhoseRetriesAllFailIsDeadUntilRedelivered(backend: Backend) async throws {
        try await blocking {
            let (store, cleanup) = try SubscriptionPauseTests.storeWithSubscription(backend)
            defer { cleanup() }
            try store.insertSubscription(SubscriptionRecord(id: "s2", url: "http://127.0.0.1:9/other", events: [.alertRaised],
                                                            secret: "0123456789abcdef0123", createdAt: Clock.now()), actor: "alice")
            try store.insertAlerts([SubscriptionPauseTests.alert("one"), SubscriptionPauseTests.alert("two")])
            let all = try store.deliveries(status: nil, subscriptionId: nil, limit: 100)
            #expect(all.count == 4 && all.map(\.id) == all.map(\.id).sorted(by: >))
            // One event, one id, whichever subscription it goes to.
            let ids = Set(all.map { WebhookBody.eventId(of: $0.payload) ?? "none" })
            #expect(ids.count == 2 && !ids.contains("none"))
            let now = Date().timeIntervalSince1970
            for d in all where d.subscriptionId == "s1" {
                try store.markAttemptFailed(id: d.id, error: "connection refused", nextAttemptAt: now + 1, giveUp: true)
            }
            let dead = try store.deliveries(status: .dead, subscriptionId: nil, limit: 100)
            #expect(dead.count == 2 && dead.allSatisfy { $0.subscriptionId == "s1" && $0.lastError == "connection refused" && $0.attempts == 1 })
            #expect(try store.deliveries(status: .pending, subscriptionId: "s2", limit: 100).count == 2)
            #expect(try store.deliveries(status: .dead, subscriptionId: "s2", limit: 100).isEmpty)
            #expect(try store.dueDeliveries(now: now + 10, limit: 10).allSatisfy { $0.subscription.id == "s2" })
            // One by one: only a dead delivery is requeued; a pending one is left alone.
            let pendingId = try #require(all.first { $0.subscriptionId == "s2" }?.id)
            #expect(try store.redeliver(ids: [dead[0].id, pendingId], subscriptionId: nil, actor: "alice") == [dead[0].id])
            #expect(try store.deliveries(status: .dead, subscriptionId: nil, limit: 100).map(\.id) == [dead[1].id])
            // In bulk, for one subscription.
            #expect(try store.redeliver(ids: nil, subscriptionId: "s2", actor: "alice").isEmpty)
            #expect(try store.redeliver(ids: nil, subscriptionId: "s1", actor: "bob") == [dead[1].id])
            let again = try store.deliveries(status: .pending, subscriptionId: "s1", limit: 100)
            #expect(again.count == 2 && again.allSatisfy { $0.attempts == 0 && $0.nextAttemptAt == nil })
            #expect(Set(again.map(\.payload)) == Set(dead.map(\.payload)), "a redelivery changed the body (and its event id)")
            #expect(try store.dueDeliveries(now: now, limit: 10).filter { $0.subscription.id == "s1" }.count == 2)
            let audit = try store.audit(entity: "deliveries", limit: 10)
            #expect(audit.map(\.action) == ["redeliver", "redeliver"] && audit.map(\.actor).sorted() == ["alice", "bob"])
        }
    }

    @Test(arguments: Backend.available)
    func anEndedSubscriptionGetsNothingSendsNothingAndKeepsItsHistory(backend: Backend) async throws {
        try await blocking {
            let (store, cleanup) = try SubscriptionPauseTests.storeWithSubscription(backend)
            defer { cleanup() }
            try store.insertAlerts([SubscriptionPauseTests.alert("queued before")])
            let queued = try #require(try store.deliveries(subscriptionId: "s1").first)
            try store.markAttemptFailed(id: queued.id, error: "refused", nextAttemptAt: 0, giveUp: true)
            #expect(try store.removeSubscription(id: "s1", actor: "alice"))
            #expect(try !store.removeSubscription(id: "s1", actor: "alice"), "a second unsubscribe found it again")
            #expect(try store.subscriptions().isEmpty && store.subscription(id: "s1") == nil)
            #expect(try store.setSubscriptionActive(id: "s1", active: true, actor: "alice") == nil, "an ended subscription was resumed")
            try store.insertAlerts([SubscriptionPauseTests.alert("after")])
            #expect(try store.deliveries(subscriptionId: "s1").count == 1, "an ended subscription got a new event")
            #expect(try store.redeliver(ids: nil, subscriptionId: nil, actor: "alice").isEmpty, "an ended subscription's dead delivery was requeued")
            #expect(try store.dueDeliveries(now: Date().timeIntervalSince1970 + 10, limit: 10).isEmpty)
            #expect(try store.audit(entity: "subscription:s1", limit: 10).map(\.action).contains("unsubscribe"))
        }
    }
}

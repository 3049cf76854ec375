import FactorStore
import FactorTestSupport
import Foundation
import Testing

@Suite("Pausing and resuming a webhook subscription")
struct SubscriptionPauseTests {
    static func alert(_ subject: String) -> AlertRecord {
        AlertRecord(rule: "coverage", severity: "warning", subject: subject, message: "m", jobId: nil, createdAt: Clock.now())
    }

    /// A fresh store with subscription "s1" to alert.raised (a receiver that is down).
    static func storeWithSubscription(_ backend: Backend) throws -> (any PlatformStore, cleanup: @Sendable () -> Void) {
        let (store, _, cleanup) = try backend.make()
        try store.insertSubscription(SubscriptionRecord(id: "s1", url: "http://127.0.0.1:9/hook", events: [.alertRaised], secret: "0123456789abcdef0123",
                                                        createdAt: Clock.now()), actor: "alice")
        return (store, cleanup)
    }

    @Test(arguments: Backend.available)
    func aPausedSubscriptionQueuesNothingNewAndItsBacklogWaitsUntilItResumes(backend: Backend) async throws {
        try await blocking {
            let (store, cleanup) = try Self.storeWithSubscription(backend)
            defer { cleanup() }
            try store.insertAlerts([Self.alert("before")])
            #expect(try store.dueDeliveries(now: Date().timeIntervalSince1970 + 1, limit: 10).count == 1)

            let paused = try #require(try store.setSubscriptionActive(id: "s1", active: false, actor: "alice"))
            #expect(!paused.active)
            try store.insertAlerts([Self.alert("while paused")])
            #expect(try store.deliveries(subscriptionId: "s1").count == 1, "an event raised while paused was queued")
            #expect(try store.dueDeliveries(now: Date().timeIntervalSince1970 + 1, limit: 10).isEmpty, "a paused subscription's backlog was offered")

            #expect(try store.setSubscriptionActive(id: "s1", active: true, actor: "bob")?.active == true)
            let due = try store.dueDeliveries(now: Date().timeIntervalSince1970 + 1, limit: 10)
            #expect(due.count == 1 && due[0].delivery.payload.contains("before"))
            #expect(try store.setSubscriptionActive(id: "nope", active: false, actor: "alice") == nil)
            let audit = try store.audit(entity: "subscription:s1", limit: 10).map(\.action)
            #expect(audit.contains("pause-subscription") && audit.contains("resume-subscription"), "\(audit)")
        }
    }

    @Test(arguments: Backend.available)
    func aClaimHidesDeliveriesFromOtherSendersUntilItExpires(backend: Backend) async throws {
        try await blocking {
            let (store, cleanup) = try Self.storeWithSubscription(backend)
            defer { cleanup() }
            try store.insertAlerts((0..<5).map { Self.alert("a\($0)") })
            let now = Date().timeIntervalSince1970
            let first = try store.claimDueDeliveries(now: now, claimSeconds: 60, limit: 3)
            let second = try store.claimDueDeliveries(now: now, claimSeconds: 60, limit: 10)
            #expect(first.count == 3 && second.count == 2)
            #expect(Set(first.map(\.delivery.id)).isDisjoint(with: second.map(\.delivery.id)))
            #expect(try store.claimDueDeliveries(now: now + 30, claimSeconds: 60, limit: 10).isEmpty)
            // A sender that died: its claims expire and the deliveries are offered again.
            #expect(try store.claimDueDeliveries(now: now + 61, claimSeconds: 60, limit: 10).count == 5)
        }
    }
}

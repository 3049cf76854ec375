import FactorStore
import FactorTestSupport
import Foundation
import Testing

@Suite("TokenStore and alerts contract")
struct TokenAlertContractTests {
    @Test(arguments: Backend.available)
    func tokensAreStoredByHashAndRevokedOnce(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            let token = TokenRecord(id: "t1", name: "ci", role: .worker, createdAt: Clock.now())
            try store.insertToken(token, secretHash: "hash-1", actor: "admin")
            #expect(throws: StoreError.duplicateToken("ci")) {
                try store.insertToken(TokenRecord(id: "t2", name: "ci", role: .admin, createdAt: Clock.now()), secretHash: "hash-2", actor: "admin")
            }
            #expect(try store.token(secretHash: "hash-1") == token)
            #expect(try store.token(secretHash: "hash-2") == nil)
            try store.revokeToken(name: "ci", actor: "admin")
            #expect(try store.token(secretHash: "hash-1") == nil)
            #expect(try store.tokens().first?.revokedAt != nil)
            #expect(throws: StoreError.unknownToken("ci")) { try store.revokeToken(name: "ci", actor: "admin") }
            #expect(try store.audit(entity: "token:ci", limit: 5).map(\.action) == ["revoke-token", "create-token"])
        }
    }

    @Test(arguments: Backend.available)
    func alertsAreStoredNewestFirstAndQueueTheirEvent(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            try store.insertSubscription(SubscriptionRecord(id: "s", url: "http://127.0.0.1:9/", events: [.alertRaised, .factorApproved],
                                                            secret: "0123456789abcdef", createdAt: Clock.now()), actor: "a")
            try store.insertAlerts([AlertRecord(rule: "coverage", severity: "warning", subject: "F1", message: "low", jobId: "j", createdAt: Clock.now()),
                                    AlertRecord(rule: "duration", severity: "critical", subject: "job j", message: "slow", jobId: nil, createdAt: Clock.now())])
            let alerts = try store.alerts(limit: 10)
            #expect(alerts.map(\.rule) == ["duration", "coverage"] && alerts[0].id > alerts[1].id && alerts[1].jobId == "j")
            let deliveries = try store.deliveries(subscriptionId: "s")
            #expect(deliveries.count == 2 && deliveries.allSatisfy { $0.event == .alertRaised && $0.status == .pending })
            #expect(deliveries[0].payload.contains("\"rule\":\"coverage\"") && deliveries[0].payload.contains("\"id\":\(alerts[1].id)"))
            // Delivered and failed attempts.
            try store.markDelivered(id: deliveries[0].id)
            try store.markAttemptFailed(id: deliveries[1].id, error: "HTTP 500", nextAttemptAt: 0, giveUp: true)
            let after = try store.deliveries(subscriptionId: "s")
            #expect(after[0].status == .delivered && after[0].attempts == 1 && after[0].deliveredAt != nil)
            #expect(after[1].status == .dead && after[1].lastError == "HTTP 500")
            // Approving a factor queues factor.approved in the same transaction.
            try store.insertFactors([(factor("F"), version("F", 1, "$close"))], actor: "a", action: "register")
            _ = try store.updateStatus(code: "F", from: [.draft], to: .approved, actor: "rita", action: "approve")
            #expect(try store.deliveries(subscriptionId: "s").last?.event == .factorApproved)
            #expect(try store.subscriptions().map(\.id) == ["s"] && store.subscription(id: "s")?.events == [.alertRaised, .factorApproved])
        }
    }
}

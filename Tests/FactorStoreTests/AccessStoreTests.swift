import FactorStore
import FactorTestSupport
import Foundation
import Testing

@Suite("Users, token expiry and refusals: store contract")
struct AccessStoreTests {
    @Test(arguments: Backend.available)
    func usersAreGrantedChangedAndRemovedWithAudit(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            #expect(try store.users().isEmpty)
            let alice = try store.setUser(name: "alice", role: .researcher, actor: "root")
            #expect(alice.role == .researcher && alice.updatedBy == "root")
            _ = try store.setUser(name: "bob", role: .reviewer, actor: "root")
            let promoted = try store.setUser(name: "alice", role: .reviewer, actor: "bob")
            #expect(promoted.role == .reviewer)
            #expect(try store.users().map(\.name) == ["alice", "bob"])
            #expect(try store.user(name: "alice")?.role == .reviewer)
            #expect(try store.removeUser(name: "bob", actor: "alice"))
            #expect(try !store.removeUser(name: "bob", actor: "alice"))
            #expect(try store.user(name: "bob") == nil)
            let trail = try store.audit(entity: "user:alice", limit: 5)
            #expect(trail.map(\.action) == ["set-user", "set-user"])
            #expect(trail.first?.before?.contains("researcher") == true && trail.first?.after?.contains("reviewer") == true)
            #expect(try store.audit(entity: "user:bob", limit: 5).first?.action == "remove-user")
        }
    }

    @Test(arguments: Backend.available)
    func tokensKeepTheirExpiryAndRefusalsAreAudited(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            let token = TokenRecord(id: "t1", name: "temp", role: .researcher, createdAt: "2026-01-01T00:00:00.000Z", expiresAt: "2026-01-02T00:00:00.000Z")
            try store.insertToken(token, secretHash: "h1", actor: "admin")
            let stored = try #require(try store.token(secretHash: "h1"))
            #expect(stored.expiresAt == "2026-01-02T00:00:00.000Z")
            #expect(stored.isExpired(at: "2026-01-02T00:00:00.000Z") && !stored.isExpired(at: "2026-01-01T23:59:59.999Z"))
            #expect(try store.audit(entity: "token:temp", limit: 1).first?.after?.contains("2026-01-02") == true)
            try store.recordRefusal(actor: "mallory", action: "approve", entity: "MOM5", reason: "mallory (researcher) cannot approve factors")
            let refusal = try #require(try store.audit(entity: "MOM5", limit: 1).first)
            #expect(refusal.actor == "mallory" && refusal.action == "refused")
            #expect(refusal.after?.contains("\"action\":\"approve\"") == true && refusal.after?.contains("cannot approve") == true)
        }
    }

    @Test(arguments: Backend.available)
    func approvalIsCheckedInTheTransactionOfTheMove(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            try store.insertFactors([(factor("FE"), version("FE", 1, "$close"))], actor: "alice", action: "register")
            _ = try store.updateStatus(code: "FE", from: [.draft], to: .inReview, actor: "alice", action: "submit-review")
            var edited = version("FE", 2, "$open")
            edited.author = "bob"
            _ = try store.appendVersion(edited, status: nil, actor: "bob", action: "update")
            let guarded = StatusGuard(expectedVersion: nil, secondPerson: true)
            #expect(throws: StoreError.sameAuthor(code: "FE", actor: "alice", role: "owner")) {
                try store.updateStatus(code: "FE", from: [.inReview], to: .approved, actor: "alice", action: "approve", guarding: guarded)
            }
            #expect(throws: StoreError.sameAuthor(code: "FE", actor: "bob", role: "author of version 2")) {
                try store.updateStatus(code: "FE", from: [.inReview], to: .approved, actor: "bob", action: "approve", guarding: guarded)
            }
            // A reviewer who read version 1 does not approve version 2.
            #expect(throws: StoreError.versionConflict(code: "FE", expected: 2, got: 3)) {
                try store.updateStatus(code: "FE", from: [.inReview], to: .approved, actor: "carol", action: "approve",
                                       guarding: StatusGuard(expectedVersion: 1, secondPerson: true))
            }
            #expect(try store.factor(code: "FE")?.status == .inReview)
            let approved = try store.updateStatus(code: "FE", from: [.inReview], to: .approved, actor: "carol", action: "approve",
                                                  guarding: StatusGuard(expectedVersion: 2, secondPerson: true))
            #expect(approved.status == .approved)
        }
    }
}

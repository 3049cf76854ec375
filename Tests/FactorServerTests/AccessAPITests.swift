import FactorCore
import FactorPlatform
import FactorStore
import FactorTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FactorServer

/// Who may do what on the API: four eyes on approval, expiring tokens, and every refusal in the audit log.
@Suite("API access", .serialized)
struct AccessAPITests {
    private func error(_ json: Any?) -> [String: Any] { ((json as? [String: Any])?["error"] as? [String: Any]) ?? [:] }

    @Test(arguments: [false, true])
    func approvalNeedsASecondPersonAndRefusalsAreAudited(postgres: Bool) async throws {
        if postgres && !TestPostgres.available { print(TestPostgres.skipNote); return }
        let f = try ServerFixture(postgres: postgres)
        defer { f.remove() }
        let second: [Role: String] = [.reviewer: try TokenService(store: f.store).create(name: "reviewer2", role: .reviewer, actor: "test").secret]
        try await f.app().test(.live) { client in
            // A reviewer registers and submits a factor of their own: they cannot approve it; another reviewer can.
            #expect(try await client.call(.post, "/factors", #"{"code": "FE1", "expression": "Mean($close, 5) / $close"}"#, as: .reviewer, tokens: f.tokens).status == 201)
            #expect(try await client.call(.post, "/factors/FE1/submit-review", as: .reviewer, tokens: f.tokens).status == 200)
            let (own, ownBody) = try await client.call(.post, "/factors/FE1/approve", as: .reviewer, tokens: f.tokens)
            #expect(own == 403)
            #expect(error(ownBody)["code"] as? String == "four_eyes")
            #expect((error(ownBody)["message"] as? String)?.contains("owner") == true)
            #expect(try f.store.factor(code: "FE1")?.status == .inReview)

            // A researcher's factor edited by a reviewer: that reviewer is its last version's author.
            #expect(try await client.call(.post, "/factors", #"{"code": "FE2", "expression": "Mean($close, 6) / $close"}"#, as: .researcher, tokens: f.tokens).status == 201)
            #expect(try await client.call(.patch, "/factors/FE2", #"{"expression": "Mean($close, 7) / $close"}"#, as: .reviewer, tokens: f.tokens).status == 200)
            #expect(try await client.call(.post, "/factors/FE2/submit-review", as: .researcher, tokens: f.tokens).status == 200)
            let (edited, editedBody) = try await client.call(.post, "/factors/FE2/approve", as: .reviewer, tokens: f.tokens)
            #expect(edited == 403 && (error(editedBody)["message"] as? String)?.contains("author of version 2") == true)
            #expect(try await client.call(.post, "/factors/FE2/approve", as: .reviewer, tokens: second).status == 200)
            #expect(try await client.call(.post, "/factors/FE1/approve", as: .reviewer, tokens: second).status == 200)

            // A researcher may not approve at all; the refusal names the role and is audited with the request.
            #expect(try await client.call(.post, "/factors", #"{"code": "FE3", "expression": "Mean($close, 8) / $close"}"#, as: .researcher, tokens: f.tokens).status == 201)
            let (role, _) = try await client.call(.post, "/factors/FE3/approve", as: .researcher, tokens: f.tokens)
            #expect(role == 403)
            let audit = try f.store.audit(entity: nil, limit: 50).filter { $0.action == "refused" }
            #expect(audit.contains { $0.entity == "FE1" && $0.actor == "reviewer" && $0.after?.contains("approve") == true })
            #expect(audit.contains { $0.entity == "FE2" && $0.actor == "reviewer" })
            #expect(audit.contains { $0.entity == "/factors/FE3/approve" && $0.actor == "researcher" && $0.after?.contains("cannot approve") == true })
            // A token that is not one is audited as anonymous; a request without any token is only answered.
            #expect(try await client.call(.get, "/jobs", as: .researcher, tokens: [.researcher: "flk_not-a-token"]).status == 401)
            #expect(try f.store.audit(entity: "/jobs", limit: 1).first?.actor == "anonymous")
            #expect(try await client.call(.get, "/results", as: nil, tokens: f.tokens).status == 401)
            #expect(try f.store.audit(entity: "/results", limit: 1).isEmpty)
        }
    }

    @Test func expiredTokensAreRefusedAndUsersAreManagedByAdmins() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        // No clock in the test: one token valid for an hour, one whose expiry is already past.
        let hour: [Role: String] = [.researcher: try TokenService(store: f.store).create(name: "hour", role: .researcher, actor: "test", lifetime: 3600).secret]
        let secret = "flk_expired-token-of-the-test"
        try f.store.insertToken(TokenRecord(id: "t-short", name: "short", role: .researcher, createdAt: "2026-01-01T00:00:00.000Z",
                                            expiresAt: "2026-01-01T01:00:00.000Z"), secretHash: SHA256Digest.hex(secret), actor: "test")
        let short: [Role: String] = [.researcher: secret]
        try await f.app().test(.live) { client in
            #expect(try await client.call(.get, "/me", as: .researcher, tokens: hour).status == 200)
            let (status, body) = try await client.call(.get, "/me", as: .researcher, tokens: short)
            #expect(status == 401)
            #expect(error(body)["code"] as? String == "token_expired")
            #expect(try f.store.audit(entity: "/me", limit: 1).first?.actor == "short")

            let (created, createdBody) = try await client.call(.post, "/tokens", #"{"name": "ci-1", "role": "worker", "expiresIn": "30d"}"#, as: .admin, tokens: f.tokens)
            #expect(created == 201)
            let expires = try #require(((createdBody as? [String: Any])?["token"] as? [String: Any])?["expiresAt"] as? String)
            #expect(expires > Clock.now())
            let (badLifetime, badBody) = try await client.call(.post, "/tokens", #"{"name": "ci-2", "role": "worker", "expiresIn": "soon"}"#, as: .admin, tokens: f.tokens)
            #expect(badLifetime == 400 && error(badBody)["field"] as? String == "expiresIn")
            // An admin cannot revoke the token it is calling with.
            let (own, ownBody) = try await client.call(.post, "/tokens/admin/revoke", as: .admin, tokens: f.tokens)
            #expect(own == 409 && error(ownBody)["code"] as? String == "own_token")

            #expect(try await client.call(.put, "/users/alice", #"{"role": "reviewer"}"#, as: .admin, tokens: f.tokens).status == 200)
            #expect(try await client.call(.put, "/users/alice", #"{"role": "reviewer"}"#, as: .reviewer, tokens: f.tokens).status == 403)
            let (listed, users) = try await client.call(.get, "/users", as: .admin, tokens: f.tokens)
            #expect(listed == 200 && (users as? [[String: Any]])?.first?["role"] as? String == "reviewer")
            #expect(try await client.call(.delete, "/users/alice", as: .admin, tokens: f.tokens).status == 200)
            #expect(try await client.call(.delete, "/users/alice", as: .admin, tokens: f.tokens).status == 404)
        }
    }
}

import FactorPlatform
import FactorStore
import FactorTestSupport
import Foundation
import Testing

/// The CLI on a shared database acts as FACTOR_USER with the role the users table (or that user's token) grants, or
/// as the holder of FACTOR_TOKEN; FACTOR_REQUIRE_AUTH=1 makes the token mandatory; approval needs a second person.
@Suite("CLI roles and four eyes", .serialized)
struct AccessCLITests {
    @Test func theCLIActsWithItsUsersRoleAndApprovalNeedsASecondPerson() async throws {
        let directory = NSTemporaryDirectory() + "factorlab-access-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let db = directory + "/shared.db"
        let data = ServerFixture.dataDirectory
        @Sendable func cli(_ user: String?, _ arguments: [String], env: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
            var environment = ["FACTOR_PLATFORM_DB": db, "FACTOR_CACHE_DIR": directory + "/cache", "FACTOR_DATA_PATH": data, "FACTOR_TOKEN": "",
                               "FACTOR_REQUIRE_AUTH": ""]
            if let user { environment["FACTOR_USER"] = user }
            let (status, out, err) = try FactorlabExecutable.output(arguments, environment: environment.merging(env) { $1 })
            return (status, String(decoding: out, as: UTF8.self), err)
        }
        try await blocking {
            // No users yet: the CLI acts with every right, so the operator can set the first ones up.
            #expect(try cli("ops", ["set-user", "ops", "--role", "admin"]).status == 0)
            for (name, role) in [("alice", "researcher"), ("bob", "reviewer"), ("carol", "reviewer")] {
                let set = try cli("ops", ["set-user", name, "--role", role])
                #expect(set.status == 0, "\(set.err)")
            }
            // Roles now apply. A researcher registers and submits, but cannot approve.
            let registered = try cli("alice", ["register-factor", "AC1", "Mean($close, 5) / $close"])
            #expect(registered.status == 0, "\(registered.err)")
            #expect(try cli("alice", ["submit-review", "AC1"]).status == 0)
            let researcher = try cli("alice", ["approve-factor", "AC1"])
            #expect(researcher.status != 0 && researcher.err.contains("alice (researcher) cannot approve factors"), "\(researcher.err)")
            // A researcher cannot edit someone else's factor either.
            #expect(try cli("bob", ["register-factor", "AC2", "Mean($close, 6) / $close"]).status == 0)
            let foreign = try cli("alice", ["update-factor", "AC2", "Mean($close, 7) / $close"])
            #expect(foreign.status != 0 && foreign.err.contains("belongs to bob"), "\(foreign.err)")
            // Four eyes: bob owns AC2 and cannot approve it, nor pass as carol; carol can.
            #expect(try cli("bob", ["submit-review", "AC2"]).status == 0)
            let own = try cli("bob", ["approve-factor", "AC2"])
            #expect(own.status != 0 && own.err.contains("approval needs a second person"), "\(own.err)")
            let impersonated = try cli("bob", ["approve-factor", "AC2", "--by", "carol"])
            #expect(impersonated.status != 0 && impersonated.err.contains("--by") == false && impersonated.err.contains("carol"), "\(impersonated.err)")
            #expect(try cli("carol", ["approve-factor", "AC2"]).status == 0)
            #expect(try cli("carol", ["approve-factor", "AC1"]).status == 0)
            // Someone the database does not know may read, not write.
            let reads = try cli("mallory", ["list-factors", "--json"])
            #expect(reads.status == 0 && reads.out.contains("AC1"), "\(reads.err)")
            let writes = try cli("mallory", ["submit-job", "AC1", "--start", "2021-01-04", "--end", "2021-03-31", "--instruments", "all"])
            #expect(writes.status != 0 && writes.err.contains("set-user mallory"), "\(writes.err)")
            // A catalogue cannot hand factors to someone else; copying or exporting the store (tokens and users in it) is
            // an admin's.
            let catalogue = directory + "/catalogue.json"
            try #"[{"code": "AC9", "name": "x", "expression": "Mean($close, 9) / $close", "category": "c", "owner": "carol"}]"#
                .write(toFile: catalogue, atomically: true, encoding: .utf8)
            let seeded = try cli("alice", ["init-db", "--seed", catalogue])
            #expect(seeded.status != 0 && seeded.err.contains("seed factors owned by carol"), "\(seeded.err)")
            let exported = try cli("bob", ["export-store"])
            #expect(exported.status != 0 && exported.err.contains("cannot export the store"), "\(exported.err)")
            #expect(try cli("ops", ["export-store", "--out", directory + "/export.jsonl"]).status == 0)
                        // Token management is the admin's.
            #expect(try cli("bob", ["create-token", "x", "--role", "admin"]).status != 0)
            let token = try cli("ops", ["create-token", "carol-token", "--role", "reviewer"])
            #expect(token.status == 0, "\(token.err)")
            let secret = token.out.trimmingCharacters(in: .whitespacesAndNewlines)

            // FACTOR_REQUIRE_AUTH=1: no token, nothing (reads included); a live token acts as its holder.
            let required = try cli("carol", ["list-factors"], env: ["FACTOR_REQUIRE_AUTH": "1"])
            #expect(required.status != 0 && required.err.contains("FACTOR_REQUIRE_AUTH=1"), "\(required.err)")
            let withToken = try cli(nil, ["deprecate-factor", "AC2"], env: ["FACTOR_REQUIRE_AUTH": "1", "FACTOR_TOKEN": secret])
            #expect(withToken.status == 0, "\(withToken.err)")
            let expiring = try cli("ops", ["create-token", "brief", "--role", "reviewer", "--expires-in", "1s"])
            #expect(expiring.status == 0, "\(expiring.err)")
            Thread.sleep(forTimeInterval: 1.2)
            let expired = try cli(nil, ["list-factors"], env: ["FACTOR_TOKEN": expiring.out.trimmingCharacters(in: .whitespacesAndNewlines)])
            #expect(expired.status != 0 && expired.err.contains("expired"), "\(expired.err)")

            // Every refusal is in the audit log with who, what and why.
            let store = try SQLiteFactorStore(path: db)
            let refused = try store.audit(entity: nil, limit: 200).filter { $0.action == "refused" }
            #expect(refused.contains { $0.actor == "alice" && $0.entity == "AC1" && $0.after?.contains("cannot approve") == true })
            #expect(refused.contains { $0.actor == "alice" && $0.entity == "AC2" })
            #expect(refused.contains { $0.actor == "bob" && $0.entity == "AC2" && $0.after?.contains("second person") == true })
            #expect(refused.contains { $0.actor == "mallory" })
            #expect(refused.contains { $0.actor == "carol" && $0.after?.contains("FACTOR_REQUIRE_AUTH") == true })
            #expect(refused.contains { $0.actor == "brief" })
            #expect(try store.factor(code: "AC2")?.status == .deprecated)
            #expect(try store.audit(entity: "AC2", limit: 10).first { $0.action == "deprecate" }?.actor == "carol-token")
        }
    }
}

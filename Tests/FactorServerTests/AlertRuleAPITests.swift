import FactorPlatform
import FactorServer
import FactorStore
import FactorTestSupport
import Foundation
import HummingbirdTesting
import Testing

@Suite("Alert rules through the API", .serialized)
struct AlertRuleAPITests {
    @Test(arguments: [false, true])
    func aRuleChangedThroughTheAPITakesEffectForTheNextJobAndAMutedRuleRaisesNothing(postgres: Bool) async throws {
        if postgres && !TestPostgres.available { print(TestPostgres.skipNote); return }
        let f = try ServerFixture(postgres: postgres)
        defer { f.remove() }
        try await f.app().test(.router) { client in
            let t = f.tokens
            for (code, expression) in [("MOM5", "$close/Ref($close,5)-1"), ("REV10", "Ref($close,10)/$close-1")] {
                _ = try await client.call(.post, "/factors", "{\"code\":\"\(code)\",\"expression\":\"\(expression)\"}", as: .researcher, tokens: t)
                _ = try await client.call(.post, "/factors/\(code)/submit-review", as: .researcher, tokens: t)
                _ = try await client.call(.post, "/factors/\(code)/approve", as: .reviewer, tokens: t)
            }
            /// Runs one job to its end and returns the alerts it raised by rule → factor codes.
            func job() async throws -> [String: [String]] {
                let (status, created) = try await client.call(.post, "/jobs", #"{"factors":["MOM5","REV10"],"universes":["core20"],"start":"2021-06-01","end":"2021-12-31","horizons":[1]}"#,
                                                              as: .researcher, tokens: t)
                #expect(status == 201)
                let id = try #require(((created as? [String: Any])?["job"] as? [String: Any])?["id"] as? String)
                let store = f.store
                _ = try await blocking { Worker(store: store, options: .init(name: "w", mode: .untilEmpty, pollSeconds: 0.05)).run().count }
                var byRule: [String: [String]] = [:]
                for alert in try f.store.alerts(limit: 100) where alert.jobId == id {
                    byRule[alert.rule, default: []].append(alert.factorCode ?? "job")
                }
                return byRule.mapValues { $0.sorted() }
            }
            let before = try await job()
            #expect(before["sample_size"] == nil, "the synthetic half-year has more than 20 dates with an IC: \(before)")

            // Only reviewers and admins change rules; bad values name their field.
            #expect(try await client.call(.put, "/alert-rules/sample_size", #"{"threshold": 100000}"#, as: .researcher, tokens: t).status == 403)
            let (bad, error) = try await client.call(.put, "/alert-rules/sample_size", #"{"threshold": -1}"#, as: .reviewer, tokens: t)
            #expect(bad == 400 && "\(String(describing: error))".contains("threshold"))
            #expect(try await client.call(.put, "/alert-rules/new_rule", #"{"threshold": 1}"#, as: .reviewer, tokens: t).status == 400)
            #expect(try await client.call(.put, "/alert-rules/sample_size", #"{"kind": "nonsense"}"#, as: .reviewer, tokens: t).status == 400)
            #expect(try await client.call(.put, "/alert-rules/sample_size", #"{"thresold": 5}"#, as: .reviewer, tokens: t).status == 400)

            // Raised: every result has fewer than 100,000 dates; the alert records its figures.
            let (ok, changed) = try await client.call(.put, "/alert-rules/sample_size", #"{"threshold": 100000, "severity": "critical"}"#, as: .reviewer, tokens: t)
            #expect(ok == 200 && (changed as? [String: Any])?["threshold"] as? Double == 100000 && (changed as? [String: Any])?["updatedBy"] as? String == "reviewer")
            #expect(try await job()["sample_size"] == ["MOM5", "REV10"])
            let raised = try #require(try f.store.alerts(limit: 10).first { $0.rule == "sample_size" })
            #expect(raised.severity == "critical" && raised.figures["threshold"] == 100000 && (raised.figures["n"] ?? 0) > 20)

            // Scoped to one factor.
            #expect(try await client.call(.put, "/alert-rules/sample_size", #"{"scope": {"factors": ["REV10"]}}"#, as: .reviewer, tokens: t).status == 200)
            #expect(try await job()["sample_size"] == ["REV10"])

            // Muted: nothing.
            #expect(try await client.call(.put, "/alert-rules/sample_size", #"{"muted": true}"#, as: .reviewer, tokens: t).status == 200)
            #expect(try await job()["sample_size"] == nil)

            // A new rule of its own, then deleted.
            #expect(try await client.call(.put, "/alert-rules/mom_only_nan", #"{"kind": "nan_ratio", "threshold": 0, "scope": {"factors": ["MOM5"]}}"#,
                                          as: .reviewer, tokens: t).status == 200)
            #expect(try await job()["mom_only_nan"] == ["MOM5"])  // the first rows of a 5-day momentum have no value
            #expect(try await client.call(.delete, "/alert-rules/mom_only_nan", as: .reviewer, tokens: t).status == 200)
            #expect(try await client.call(.delete, "/alert-rules/mom_only_nan", as: .reviewer, tokens: t).status == 404)
            let (_, rules) = try await client.call(.get, "/alert-rules", as: .researcher, tokens: t)
            #expect((rules as? [[String: Any]])?.compactMap { $0["id"] as? String }.sorted() == AlertRuleRecord.defaults.map(\.id).sorted())

            // Acknowledging through the API; the open list leaves it out.
            let (_, open) = try await client.call(.get, "/alerts?open=true&limit=1000", as: .researcher, tokens: t)
            let openCount = (open as? [[String: Any]])?.count ?? 0
            let (ackStatus, acked) = try await client.call(.post, "/alerts/\(raised.id)/acknowledge", as: .researcher, tokens: t)
            #expect(ackStatus == 200 && (acked as? [String: Any])?["acknowledgedBy"] as? String == "researcher")
            let (_, openAfter) = try await client.call(.get, "/alerts?open=true&limit=1000", as: .researcher, tokens: t)
            #expect((openAfter as? [[String: Any]])?.count == openCount - 1)
            #expect(try await client.call(.post, "/alerts/999999/acknowledge", as: .researcher, tokens: t).status == 404)
        }
    }
}

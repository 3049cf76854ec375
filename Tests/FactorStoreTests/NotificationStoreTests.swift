import FactorStore
import FactorTestSupport
import Foundation
import Testing

/// Subscription kinds and filters, the job event's Top-N, and alert rules as data, on every backend.
@Suite("Notification channels, filters and alert rules in the store")
struct NotificationStoreTests {
    static func subscription(_ id: String, _ events: [WebhookEvent], kind: SubscriptionKind = .webhook, filter: SubscriptionFilter = SubscriptionFilter())
        -> SubscriptionRecord {
        SubscriptionRecord(id: id, url: kind == .email ? "\(id)@example.org" : "http://127.0.0.1:9/\(id)?access_token=tok-\(id)", events: events,
                           secret: kind == .webhook ? "0123456789abcdef" : "", createdAt: Clock.now(), kind: kind, filter: filter)
    }

    @Test(arguments: Backend.available)
    func filtersDecideWhichSubscriptionsHearOfAnEvent(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            try store.insertFactors([(factor("MOM5", category: "momentum"), version("MOM5", 1, "a")),
                                     (factor("VOL20", category: "volatility"), version("VOL20", 1, "b"))], actor: "alice", action: "register")
            let all: [WebhookEvent] = WebhookEvent.allCases
            let subs = [
                Self.subscription("everything", all),
                Self.subscription("mine", all, kind: .email, filter: SubscriptionFilter(factors: ["VOL20"])),
                Self.subscription("momentum", all, kind: .dingtalk, filter: SubscriptionFilter(categories: ["momentum"])),
                Self.subscription("zz500", all, kind: .slack, filter: SubscriptionFilter(universes: ["zz500"])),
                Self.subscription("drops", [.alertRaised], kind: .wecom, filter: SubscriptionFilter(alertRules: ["ic_drop"])),
            ]
            for s in subs { try store.insertSubscription(s, actor: "alice") }
            #expect(Dictionary(uniqueKeysWithValues: try store.subscriptions().map { ($0.id, $0.kind) })
                    == ["everything": .webhook, "mine": .email, "momentum": .dingtalk, "zz500": .slack, "drops": .wecom])
            #expect(try store.subscription(id: "mine")?.filter == SubscriptionFilter(factors: ["VOL20"]))
            // The audit keeps the filter and the kind, never the bot's token.
            let audit = try #require(try store.audit(entity: "subscription:momentum", limit: 1).first?.after)
            #expect(audit.contains("\"dingtalk\"") && audit.contains("momentum") && !audit.contains("tok-momentum"), "\(audit)")

            // factor.approved of MOM5 (momentum): not "mine" (VOL20 only); "zz500" has no universe in this event, so passes.
            _ = try store.updateStatus(code: "MOM5", from: [.draft], to: .approved, actor: "bob", action: "approve")
            // A job on csi300 with MOM5 only.
            _ = try store.createJob(QueueContractTests.job("j"), tasks: QueueContractTests.tasks("j", 1), actor: "a")
            let lease = try #require(try store.leaseTask(owner: "w", seconds: 30, now: QueueContractTests.now()))
            #expect(try store.completeTask(taskId: lease.task.id, owner: "w", run: QueueContractTests.run("j"),
                                           results: [(result("run-j", "MOM5", rankICIR: 0.7), seriesRows)], now: QueueContractTests.now()))
            _ = try store.finishJobIfDone(id: "j")
            #expect(try store.deliveries(subscriptionId: "everything").map(\.event) == [.factorApproved],
                    "the job event waits for the summary (it carries the Top-N)")
            try store.saveJobSummary(JobSummaryRecord(jobId: "j", csv: "factor\nMOM5\n", top: [result("run-j", "MOM5", rankICIR: 0.7)], createdAt: Clock.now()))
            // Alerts: an ic_drop on VOL20 (zz500) and a coverage alert of the job (scope: the job's factors and universes).
            var drop = AlertRecord(rule: "ic_drop", severity: "warning", subject: "VOL20 zz500", message: "m", jobId: nil, createdAt: Clock.now(),
                                   factorCode: "VOL20", universe: "zz500", figures: ["drop": 0.03, "threshold": 0.02])
            drop.acknowledgedAt = nil
            try store.insertAlerts([drop, AlertRecord(rule: "task_failures", severity: "critical", subject: "job j", message: "m", jobId: "j", createdAt: Clock.now())])

            func events(_ id: String) throws -> [String] {
                try store.deliveries(subscriptionId: id).map { d in
                    let body = try #require(try JSONSerialization.jsonObject(with: Data(d.payload.utf8)) as? [String: Any])
                    let data = body["data"] as? [String: Any] ?? [:]
                    return d.event.rawValue + ":" + ((data["rule"] as? String) ?? (data["code"] as? String) ?? "job")
                }
            }
            #expect(try events("everything") == ["factor.approved:MOM5", "job.succeeded:job", "alert.raised:ic_drop", "alert.raised:task_failures"])
            #expect(try events("mine") == ["alert.raised:ic_drop"])
            #expect(try events("momentum") == ["factor.approved:MOM5", "job.succeeded:job", "alert.raised:task_failures"])
            #expect(try events("zz500") == ["factor.approved:MOM5", "alert.raised:ic_drop"])
            #expect(try events("drops") == ["alert.raised:ic_drop"])

            // The job event carries the job and its Top-N.
            let body = try #require(try store.deliveries(subscriptionId: "everything").first { $0.event == .jobSucceeded }?.payload)
            let payload = try JSONDecoder().decode(Envelope.self, from: Data(body.utf8)).data
            #expect(payload.job.id == "j" && payload.job.summaryAt != nil && payload.results == 1 && payload.failedResults == 0)
            #expect(payload.top.map(\.factor) == ["MOM5"] && payload.top.first?.rankICIR == 0.7 && payload.top.first?.rankICMean == nil)
            // Alerts keep what they are about and their figures.
            let stored = try store.alerts(limit: 10)
            #expect(stored.last?.factorCode == "VOL20" && stored.last?.universe == "zz500" && stored.last?.figures == ["drop": 0.03, "threshold": 0.02])
        }
    }

    struct Envelope: Decodable { var data: JobEventPayload }

    @Test(arguments: Backend.available)
    func alertRulesAreSeededEditableAndAudited(backend: Backend) async throws {
        try await blocking {
            let (store, _, cleanup) = try backend.make()
            defer { cleanup() }
            let seeded = try store.alertRules()
            #expect(seeded.map(\.id) == AlertRuleRecord.defaults.map(\.id).sorted())
            #expect(seeded.first { $0.id == "ic_drop" }?.threshold == 0.02 && seeded.first { $0.id == "task_failures" }?.threshold == 0.05)
            #expect(seeded.first { $0.id == "slow_task" }.map { ($0.threshold, $0.lookback) } ?? (0, 0) == (0.95, 20))
            var rule = try #require(seeded.first { $0.id == "ic_drop" })
            rule.threshold = 0.01
            rule.muted = true
            rule.scope = AlertRuleScope(factors: ["MOM5"], universes: ["csi300"])
            let saved = try store.saveAlertRule(rule, actor: "carol")
            #expect(saved.updatedBy == "carol" && !saved.updatedAt.isEmpty)
            let reread = try #require(try store.alertRules().first { $0.id == "ic_drop" })
            #expect(reread == saved)
            let added = try store.saveAlertRule(AlertRuleRecord(id: "ic_drop_strict", kind: .icDrop, threshold: 0.005, severity: "critical",
                                                                scope: AlertRuleScope(categories: ["momentum"])), actor: "carol")
            #expect(try store.alertRules().contains(added))
            #expect(try store.removeAlertRule(id: "ic_drop_strict", actor: "carol"))
            #expect(try !store.removeAlertRule(id: "ic_drop_strict", actor: "carol"))
            let actions = try store.audit(entity: nil, limit: 10).map(\.action)
            #expect(actions.prefix(3) == ["remove-alert-rule", "add-alert-rule", "set-alert-rule"], "\(actions)")
            let before = try #require(try store.audit(entity: "alert-rule:ic_drop", limit: 1).first?.before)
            #expect(before.contains("0.02"), "the audit keeps the rule as it was")

            // Acknowledging: once, by the first person; the listing can leave acknowledged ones out.
            try store.insertAlerts([AlertRecord(rule: "coverage", severity: "warning", subject: "A", message: "m", jobId: nil, createdAt: Clock.now()),
                                    AlertRecord(rule: "coverage", severity: "warning", subject: "B", message: "m", jobId: nil, createdAt: Clock.now())])
            let first = try #require(try store.alerts(limit: 10).last)
            #expect(try store.acknowledgeAlert(id: first.id, actor: "dave")?.acknowledgedBy == "dave")
            #expect(try store.acknowledgeAlert(id: first.id, actor: "erin")?.acknowledgedBy == "dave")
            #expect(try store.acknowledgeAlert(id: 999_999, actor: "erin") == nil)
            #expect(try store.alerts(limit: 10, unacknowledged: true).map(\.subject) == ["B"])
            #expect(try store.audit(entity: "alert:\(first.id)", limit: 5).map(\.action) == ["acknowledge-alert"])
        }
    }
}

import FactorPlatform
import FactorStore
import Foundation
import Hummingbird

/// Webhook subscriptions, their deliveries, and alerts.
struct WebhookRoutes {
    let services: Services

    struct NewSubscription: Decodable {
        var kind: String?
        var url: String?
        var to: String?
        var events: [String]
        var secret: String?
        var filter: SubscriptionFilter?
    }

    /// A subscription as shown back: the secret only at creation; a chat bot's URL without its token.
    struct Shown: Encodable {
        var id: String
        var kind: SubscriptionKind
        var url: String
        var events: [WebhookEvent]
        var filter: SubscriptionFilter
        var active: Bool
        var createdAt: String
        var secret: String?

        init(_ s: SubscriptionRecord, secret: String? = nil) {
            id = s.id
            kind = s.kind
            url = s.displayTarget
            events = s.events
            filter = s.filter
            active = s.active
            createdAt = s.createdAt
            self.secret = secret
        }
    }

    func register(on router: APIRouter) {
        let store = services.store
        router.post("/subscriptions", "Subscribe to events (job.succeeded, job.failed, factor.approved, alert.raised) by a channel (kind: webhook, email, dingtalk, feishu, wecom, slack; url: the URL or email addresses) with an optional filter {factors, categories, universes, alertRules}", roles: "researcher, reviewer, admin") { request, context in
            let caller = try context.require([.researcher, .reviewer], to: "manage subscriptions")
            let body = try await JSONIO.decode(NewSubscription.self, from: request, context: context,
                                               allowed: ["kind", "url", "to", "events", "secret", "filter"])
            guard let target = body.url ?? body.to else { throw APIError(.badRequest, "url: give the URL or the email addresses to send to", details: ["field": "url"]) }
            let s: SubscriptionRecord
            do {
                s = try SubscriptionRequest(kind: try body.kind.map(SubscriptionRequest.kind) ?? .webhook, target: target, events: body.events,
                                            secret: body.secret, filter: body.filter ?? SubscriptionFilter()).record()
            } catch let problem as SubscriptionRequest.Problem {
                throw APIError(.badRequest, problem.description, details: ["field": problem.field == "to" ? "url" : problem.field])
            }
            try store.insertSubscription(s, actor: caller.name)
            return try JSONIO.response(Shown(s, secret: s.kind == .webhook ? s.secret : nil), status: .created)
        }
        router.get("/subscriptions", "Subscriptions (without their secrets)") { _, context in
            try context.require([.researcher, .reviewer], to: "read subscriptions")
            return try JSONIO.response(try store.subscriptions().map { Shown($0) })
        }
        router.get("/subscriptions/:id/deliveries", "A subscription's deliveries: status, attempts, last error") { _, context in
            try context.require([.researcher, .reviewer], to: "read deliveries")
            let id = try context.parameters.require("id")
            guard try store.subscription(id: id) != nil else { throw APIError(.notFound, "no subscription with id \(id)") }
            return try JSONIO.response(try store.deliveries(subscriptionId: id))
        }
        router.delete("/subscriptions/:id", "End a subscription: no more events; its queued deliveries are not sent; its history stays", roles: "researcher, reviewer, admin") { _, context in
            let caller = try context.require([.researcher, .reviewer], to: "manage subscriptions")
            let id = try context.parameters.require("id")
            guard try store.removeSubscription(id: id, actor: caller.name) else { throw APIError(.notFound, "no subscription with id \(id)") }
            return try JSONIO.response(["unsubscribed": id])
        }
        router.get("/deliveries", "The webhook outbox, newest first (status: pending, delivered or dead; subscription; limit)") { request, context in
            try context.require([.researcher, .reviewer], to: "read deliveries")
            let q = request.uri.queryParameters
            var status: DeliveryRecord.Status?
            if let text = q["status"].map(String.init) {
                guard let s = DeliveryRecord.Status(rawValue: text) else {
                    throw APIError(.badRequest, "status must be \(DeliveryRecord.Status.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
                }
                status = s
            }
            let limit = try q["limit"].map { try ResultRoutes.integer(String($0), "limit") } ?? 100
            return try JSONIO.response(try store.deliveries(status: status, subscriptionId: q["subscription"].map(String.init), limit: min(1000, max(1, limit))))
        }
        router.post("/deliveries/redeliver", "Put dead deliveries back in the outbox: {\"ids\": […]} or {\"dead\": true[, \"subscription\"]}; their bodies and event ids are unchanged", roles: "researcher, reviewer, admin") { request, context in
            let caller = try context.require([.researcher, .reviewer], to: "redeliver webhooks")
            struct Body: Decodable { var ids: [Int64]?; var dead: Bool?; var subscription: String? }
            let body = try await JSONIO.decode(Body.self, from: request, context: context, allowed: ["ids", "dead", "subscription"])
            guard (body.ids != nil) != (body.dead == true) else { throw APIError(.badRequest, "give ids, or dead: true for every dead delivery") }
            let requeued = try store.redeliver(ids: body.ids, subscriptionId: body.subscription, actor: caller.name)
            return try JSONIO.response(["redelivered": requeued])
        }
        for (action, active) in [("pause", false), ("resume", true)] {
            let summary = active ? "Resume a subscription: queued deliveries go out again, new events are queued"
                                 : "Pause a subscription: no new events are queued; queued deliveries wait until it resumes"
            router.post("/subscriptions/:id/\(action)", summary, roles: "researcher, reviewer, admin") { _, context in
                let caller = try context.require([.researcher, .reviewer], to: "manage subscriptions")
                let id = try context.parameters.require("id")
                guard let s = try store.setSubscriptionActive(id: id, active: active, actor: caller.name) else {
                    throw APIError(.notFound, "no subscription with id \(id)")
                }
                return try JSONIO.response(Shown(s))
            }
        }
        router.post("/tokens", "Create an API token (admin); the secret is in this answer only", roles: "admin") { request, context in
            let caller = try context.require([], to: "manage tokens")
            struct NewToken: Decodable { var name: String; var role: String }
            let body = try await JSONIO.decode(NewToken.self, from: request, context: context, allowed: ["name", "role"])
            guard let role = Role(rawValue: body.role) else {
                throw APIError(.badRequest, "role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let (token, secret) = try services.tokens.create(name: body.name, role: role, actor: caller.name)
            struct Created: Encodable { var token: TokenRecord; var secret: String }
            return try JSONIO.response(Created(token: token, secret: secret), status: .created)
        }
        router.get("/tokens", "API tokens (admin; names and roles only)", roles: "admin") { _, context in
            try context.require([], to: "manage tokens")
            return try JSONIO.response(try store.tokens())
        }
        router.post("/tokens/:name/revoke", "Revoke a token (admin)", roles: "admin") { _, context in
            let caller = try context.require([], to: "manage tokens")
            try store.revokeToken(name: try context.parameters.require("name"), actor: caller.name)
            return try JSONIO.response(["revoked": true])
        }
        router.get("/alerts", "Alerts raised when jobs end, newest first: rule, subject, figures, acknowledgement (limit; open=true for unacknowledged ones)") { request, context in
            try context.require([.researcher, .reviewer], to: "read alerts")
            let q = request.uri.queryParameters
            let limit = try q["limit"].map { try ResultRoutes.integer(String($0), "limit") } ?? 100
            let open = try q["open"].map { text -> Bool in
                guard let value = ["true": true, "false": false, "1": true, "0": false][String(text)] else {
                    throw APIError(.badRequest, "open must be true or false, not '\(text)'", details: ["field": "open"])
                }
                return value
            } ?? false
            return try JSONIO.response(try store.alerts(limit: min(1000, max(1, limit)), unacknowledged: open))
        }
        router.post("/alerts/:id/acknowledge", "Acknowledge an alert (the first acknowledgement stands)") { _, context in
            let caller = try context.require([.researcher, .reviewer], to: "acknowledge alerts")
            let text = try context.parameters.require("id")
            guard let id = Int64(text), let alert = try store.acknowledgeAlert(id: id, actor: caller.name) else {
                throw APIError(.notFound, "no alert with id \(text)")
            }
            return try JSONIO.response(alert)
        }
        router.get("/alert-rules", "Alert rules: kind, threshold, lookback, severity, scope, muted") { _, context in
            try context.require([.researcher, .reviewer], to: "read alert rules")
            return try JSONIO.response(try store.alertRules())
        }
        router.put("/alert-rules/:id", "Create or change an alert rule: {kind, threshold, lookback, severity, scope: {factors, categories, universes}, muted}; only what is given changes; takes effect for the next job that ends", roles: "reviewer, admin") { request, context in
            let caller = try context.require([.reviewer], to: "manage alert rules")
            let id = try context.parameters.require("id")
            let change = try await JSONIO.decode(AlertRuleChange.self, from: request, context: context,
                                                 allowed: ["kind", "threshold", "lookback", "severity", "scope", "muted"])
            do {
                return try JSONIO.response(try change.save(id: id, store: store, actor: caller.name))
            } catch let problem as AlertRuleChange.Problem {
                throw APIError(.badRequest, problem.description, details: ["field": problem.field])
            }
        }
        router.delete("/alert-rules/:id", "Delete an alert rule (its alerts stay)", roles: "reviewer, admin") { _, context in
            let caller = try context.require([.reviewer], to: "manage alert rules")
            let id = try context.parameters.require("id")
            guard try store.removeAlertRule(id: id, actor: caller.name) else { throw APIError(.notFound, "no alert rule with id \(id)") }
            return try JSONIO.response(["removed": id])
        }
    }
}

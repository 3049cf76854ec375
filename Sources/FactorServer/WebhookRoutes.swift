import FactorPlatform
import FactorStore
import Foundation
import Hummingbird

/// Webhook subscriptions, their deliveries, and alerts.
struct WebhookRoutes {
    let services: Services

    struct NewSubscription: Codable {
        var kind: String?
        var url: String?
        var to: String?
        var events: [String]
        var secret: String?
        var filter: SubscriptionFilter?
    }

    /// A subscription as shown back: the secret only at creation; a chat bot's URL without its token.
    struct SubscriptionView: Codable {
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

    struct RedeliverBody: Codable { var ids: [Int64]?; var dead: Bool?; var subscription: String? }
    struct Redelivered: Codable { var redelivered: [Int64] }
    struct Unsubscribed: Codable { var unsubscribed: String }
    struct NewToken: Codable {
        var name: String
        var role: String
        /// How long the token is valid: "30d", "12h", "90m" (default: until revoked).
        var expiresIn: String?
    }
    struct UserChange: Codable { var role: String }
    struct CreatedToken: Codable { var token: TokenRecord; var secret: String }
    struct Revoked: Codable { var revoked: Bool }
    struct Removed: Codable { var removed: String }

    /// The id a newest-first page continues below.
    static func id(after page: Pagination.Keyset) throws -> Int64? {
        guard let key = page.after else { return nil }
        guard let id = Int64(key) else { throw APIError(.badRequest, "cursor is not a cursor of this list", code: "invalid_cursor", field: "cursor") }
        return id
    }

    func register(on router: APIRouter) {
        let store = services.store
        router.post("/subscriptions", "Subscribe to events (job.succeeded, job.failed, factor.approved, alert.raised) by a channel (kind: webhook, email, dingtalk, feishu, wecom, slack; url: the URL or email addresses) with an optional filter {factors, categories, universes, alertRules}",
                    roles: "researcher, reviewer, admin", body: NewSubscription.self,
                    example: #"{"kind": "webhook", "url": "https://hooks.example.com/factorlab", "events": ["job.succeeded", "job.failed"], "filter": {"universes": ["csi300"]}}"#,
                    replies: [.created(SubscriptionView.self, "The subscription; a webhook's signing secret is in this answer only")]) { request, context in
            let caller = try context.require([.researcher, .reviewer], to: "manage subscriptions")
            let body = try await JSONIO.decode(NewSubscription.self, from: request, context: context)
            guard let target = body.url ?? body.to else { throw APIError(.badRequest, "url: give the URL or the email addresses to send to", field: "url") }
            let s: SubscriptionRecord
            do {
                s = try SubscriptionRequest(kind: try body.kind.map(SubscriptionRequest.kind) ?? .webhook, target: target, events: body.events,
                                            secret: body.secret, filter: body.filter ?? SubscriptionFilter()).record()
            } catch let problem as SubscriptionRequest.Problem {
                throw APIError(.badRequest, problem.description, field: problem.field == "to" ? "url" : problem.field)
            }
            try store.insertSubscription(s, actor: caller.name)
            return try JSONIO.response(SubscriptionView(s, secret: s.kind == .webhook ? s.secret : nil), status: .created)
        }
        router.list("/subscriptions", "Subscriptions (without their secrets; filters: kind, active)", of: SubscriptionView.self,
                    query: [.choice("kind", SubscriptionKind.allCases.map(\.rawValue), "only this channel"), .boolean("active", "only active (true) or paused (false) ones")],
                    cursorKey: \.id) { request, context in
            try context.require([.researcher, .reviewer], to: "read subscriptions")
            let q = request.uri.queryParameters
            let kind = q["kind"].flatMap { SubscriptionKind(rawValue: String($0)) }
            let active = q["active"].flatMap { QueryParameter.booleans[String($0)] }
            return try store.subscriptions().filter { (kind == nil || $0.kind == kind) && (active == nil || $0.active == active) }.map { SubscriptionView($0) }
        }
        router.list("/subscriptions/:id/deliveries", "A subscription's deliveries: status, attempts, last error (filter: status)", of: DeliveryRecord.self,
                    query: [.choice("status", DeliveryRecord.Status.allCases.map(\.rawValue), "only deliveries in this state")],
                    cursorKey: { String($0.id) }) { request, context in
            try context.require([.researcher, .reviewer], to: "read deliveries")
            let id = try context.parameters.require("id")
            guard try store.subscription(id: id) != nil else { throw APIError(.notFound, "no subscription with id \(id)", code: "unknown_subscription") }
            let status = request.uri.queryParameters["status"].flatMap { DeliveryRecord.Status(rawValue: String($0)) }
            return try store.deliveries(subscriptionId: id).filter { status == nil || $0.status == status }
        }
        router.delete("/subscriptions/:id", "End a subscription: no more events; its queued deliveries are not sent; its history stays", roles: "researcher, reviewer, admin",
                      replies: [.ok(Unsubscribed.self)]) { _, context in
            let caller = try context.require([.researcher, .reviewer], to: "manage subscriptions")
            let id = try context.parameters.require("id")
            guard try store.removeSubscription(id: id, actor: caller.name) else { throw APIError(.notFound, "no subscription with id \(id)", code: "unknown_subscription") }
            return try JSONIO.response(Unsubscribed(unsubscribed: id))
        }
        router.keysetList("/deliveries", "The webhook outbox, newest first (filters: status, subscription)", of: DeliveryRecord.self,
                          query: [.choice("status", DeliveryRecord.Status.allCases.map(\.rawValue), "only deliveries in this state"),
                                  .string("subscription", "only this subscription's")],
                          defaultLimit: 100, cursorKey: { String($0.id) }) { request, context, page in
            try context.require([.researcher, .reviewer], to: "read deliveries")
            let q = request.uri.queryParameters
            let status = q["status"].flatMap { DeliveryRecord.Status(rawValue: String($0)) }
            return try store.deliveries(status: status, subscriptionId: q["subscription"].map(String.init), limit: page.storeLimit ?? Int(Int32.max),
                                        before: try Self.id(after: page))
        }
        router.post("/deliveries/redeliver", "Put dead deliveries back in the outbox: {\"ids\": […]} or {\"dead\": true[, \"subscription\"]}; their bodies and event ids are unchanged",
                    roles: "researcher, reviewer, admin", body: RedeliverBody.self, example: #"{"dead": true}"#, replies: [.ok(Redelivered.self)]) { request, context in
            let caller = try context.require([.researcher, .reviewer], to: "redeliver webhooks")
            let body = try await JSONIO.decode(RedeliverBody.self, from: request, context: context)
            guard (body.ids != nil) != (body.dead == true) else { throw APIError(.badRequest, "give ids, or dead: true for every dead delivery", field: "ids") }
            let requeued = try store.redeliver(ids: body.ids, subscriptionId: body.subscription, actor: caller.name)
            return try JSONIO.response(Redelivered(redelivered: requeued))
        }
        for (action, active) in [("pause", false), ("resume", true)] {
            let summary = active ? "Resume a subscription: queued deliveries go out again, new events are queued"
                                 : "Pause a subscription: no new events are queued; queued deliveries wait until it resumes"
            router.post("/subscriptions/:id/\(action)", summary, roles: "researcher, reviewer, admin", replies: [.ok(SubscriptionView.self)]) { _, context in
                let caller = try context.require([.researcher, .reviewer], to: "manage subscriptions")
                let id = try context.parameters.require("id")
                guard let s = try store.setSubscriptionActive(id: id, active: active, actor: caller.name) else {
                    throw APIError(.notFound, "no subscription with id \(id)", code: "unknown_subscription")
                }
                return try JSONIO.response(SubscriptionView(s))
            }
        }
        router.post("/tokens", "Create an API token (admin); the secret is in this answer only", roles: "admin", body: NewToken.self,
                    example: #"{"name": "worker-host-1", "role": "worker", "expiresIn": "90d"}"#, replies: [.created(CreatedToken.self)]) { request, context in
            let caller = try context.require([], to: "manage tokens")
            let body = try await JSONIO.decode(NewToken.self, from: request, context: context)
            guard let role = Role(rawValue: body.role) else {
                throw APIError(.badRequest, "role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))", field: "role")
            }
            let lifetime: TimeInterval?
            do { lifetime = try body.expiresIn.map(TokenService.lifetime) } catch {
                throw APIError(.badRequest, "\(error)", field: "expiresIn")
            }
            let (token, secret) = try services.tokens.create(name: body.name, role: role, actor: caller.name, lifetime: lifetime)
            return try JSONIO.response(CreatedToken(token: token, secret: secret), status: .created)
        }
        router.list("/tokens", "API tokens (admin; names and roles only)", roles: "admin", of: TokenRecord.self, cursorKey: \.name) { _, context in
            try context.require([], to: "manage tokens")
            return try store.tokens()
        }
        router.post("/tokens/:name/revoke", "Revoke a token (admin; not the one the request is made with)", roles: "admin", replies: [.ok(Revoked.self)]) { _, context in
            let caller = try context.require([], to: "manage tokens")
            let name = try context.parameters.require("name")
            // An admin revoking the token in hand would lock itself out mid-session; another admin, or the CLI, can.
            guard name != caller.name else {
                throw APIError(.conflict, "token \(name) is the one this request is made with; revoke it with another admin token or factorlab revoke-token",
                               code: "own_token", field: "name")
            }
            try store.revokeToken(name: name, actor: caller.name)
            return try JSONIO.response(Revoked(revoked: true))
        }
        router.list("/users", "Users the CLI acts as on this database, with their roles (admin)", roles: "admin", of: UserRecord.self,
                    cursorKey: \.name) { _, context in
            try context.require([], to: "manage users")
            return try store.users()
        }
        router.put("/users/:name", "Grant a user a role for the CLI (admin)", roles: "admin", body: UserChange.self, example: #"{"role": "reviewer"}"#,
                   replies: [.ok(UserRecord.self)]) { request, context in
            let caller = try context.require([], to: "manage users")
            let name = try context.parameters.require("name")
            guard UserRecord.isValidName(name) else { throw APIError(.badRequest, UserRecord.nameRule, field: "name") }
            let body = try await JSONIO.decode(UserChange.self, from: request, context: context)
            guard let role = Role(rawValue: body.role) else {
                throw APIError(.badRequest, "role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))", field: "role")
            }
            return try JSONIO.response(try store.setUser(name: name, role: role, actor: caller.name))
        }
        router.delete("/users/:name", "Remove a user (admin)", roles: "admin", replies: [.ok(Removed.self)]) { _, context in
            let caller = try context.require([], to: "manage users")
            let name = try context.parameters.require("name")
            guard try store.removeUser(name: name, actor: caller.name) else { throw APIError(.notFound, "no user \(name)", code: "unknown_user") }
            return try JSONIO.response(Removed(removed: name))
        }
        router.keysetList("/alerts", "Alerts raised when jobs end, newest first: rule, subject, figures, acknowledgement (open=true for unacknowledged ones)",
                          of: AlertRecord.self, query: [.boolean("open", "only unacknowledged alerts")], defaultLimit: 100,
                          cursorKey: { String($0.id) }) { request, context, page in
            try context.require([.researcher, .reviewer], to: "read alerts")
            let open = request.uri.queryParameters["open"].flatMap { QueryParameter.booleans[String($0)] } ?? false
            return try store.alerts(limit: page.storeLimit ?? Int(Int32.max), unacknowledged: open, before: try Self.id(after: page))
        }
        router.post("/alerts/:id/acknowledge", "Acknowledge an alert (the first acknowledgement stands)", replies: [.ok(AlertRecord.self)]) { _, context in
            let caller = try context.require([.researcher, .reviewer], to: "acknowledge alerts")
            let text = try context.parameters.require("id")
            guard let id = Int64(text), let alert = try store.acknowledgeAlert(id: id, actor: caller.name) else {
                throw APIError(.notFound, "no alert with id \(text)", code: "unknown_alert")
            }
            return try JSONIO.response(alert)
        }
        router.list("/alert-rules", "Alert rules: kind, threshold, lookback, severity, scope, muted (filter: kind)", of: AlertRuleRecord.self,
                    query: [.choice("kind", AlertRuleKind.allCases.map(\.rawValue), "only rules of this kind")], cursorKey: \.id) { request, context in
            try context.require([.researcher, .reviewer], to: "read alert rules")
            let kind = request.uri.queryParameters["kind"].flatMap { AlertRuleKind(rawValue: String($0)) }
            return try store.alertRules().filter { kind == nil || $0.kind == kind }
        }
        router.put("/alert-rules/:id", "Create or change an alert rule: {kind, threshold, lookback, severity, scope: {factors, categories, universes}, muted}; only what is given changes; takes effect for the next job that ends",
                   roles: "reviewer, admin", body: AlertRuleChange.self, example: #"{"kind": "ic_drop", "threshold": 0.02, "lookback": 5, "severity": "warning"}"#,
                   replies: [.ok(AlertRuleRecord.self)]) { request, context in
            let caller = try context.require([.reviewer], to: "manage alert rules")
            let id = try context.parameters.require("id")
            let change = try await JSONIO.decode(AlertRuleChange.self, from: request, context: context)
            do {
                return try JSONIO.response(try change.save(id: id, store: store, actor: caller.name))
            } catch let problem as AlertRuleChange.Problem {
                throw APIError(.badRequest, problem.description, field: problem.field)
            }
        }
        router.delete("/alert-rules/:id", "Delete an alert rule (its alerts stay)", roles: "reviewer, admin", replies: [.ok(Removed.self)]) { _, context in
            let caller = try context.require([.reviewer], to: "manage alert rules")
            let id = try context.parameters.require("id")
            guard try store.removeAlertRule(id: id, actor: caller.name) else { throw APIError(.notFound, "no alert rule with id \(id)", code: "unknown_alert_rule") }
            return try JSONIO.response(Removed(removed: id))
        }
    }
}

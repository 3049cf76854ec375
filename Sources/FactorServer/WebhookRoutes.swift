import FactorPlatform
import FactorStore
import Foundation
import Hummingbird

/// Webhook subscriptions, their deliveries, and alerts.
struct WebhookRoutes {
    let services: Services

    struct NewSubscription: Decodable {
        var url: String
        var events: [String]
        var secret: String?
    }

    /// A subscription as shown back: the secret only at creation.
    struct Shown: Encodable {
        var id: String
        var url: String
        var events: [WebhookEvent]
        var active: Bool
        var createdAt: String
        var secret: String?
    }

    func register(on router: APIRouter) {
        let store = services.store
        router.post("/subscriptions", "Subscribe a URL to events (job.succeeded, job.failed, factor.approved, alert.raised)", roles: "researcher, reviewer, admin") { request, context in
            let caller = try context.require([.researcher, .reviewer], to: "manage subscriptions")
            let body = try await JSONIO.decode(NewSubscription.self, from: request, context: context, allowed: ["url", "events", "secret"])
            guard let url = URL(string: body.url), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw APIError(.badRequest, "url must be an http(s) URL, got '\(body.url)'")
            }
            var events: [WebhookEvent] = []
            for e in body.events {
                guard let event = WebhookEvent(rawValue: e) else {
                    throw APIError(.badRequest, "unknown event '\(e)'; events: \(WebhookEvent.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                events.append(event)
            }
            guard !events.isEmpty else { throw APIError(.badRequest, "events must name at least one event") }
            let secret = body.secret ?? UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            guard secret.count >= 16 else { throw APIError(.badRequest, "secret must have at least 16 characters") }
            let s = SubscriptionRecord(id: UUID().uuidString.lowercased(), url: body.url, events: events, secret: secret, createdAt: Clock.now())
            try store.insertSubscription(s, actor: caller.name)
            return try JSONIO.response(Shown(id: s.id, url: s.url, events: s.events, active: s.active, createdAt: s.createdAt, secret: secret),
                                       status: .created)
        }
        router.get("/subscriptions", "Subscriptions (without their secrets)") { _, context in
            try context.require([.researcher, .reviewer], to: "read subscriptions")
            return try JSONIO.response(try store.subscriptions().map {
                Shown(id: $0.id, url: $0.url, events: $0.events, active: $0.active, createdAt: $0.createdAt, secret: nil)
            })
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
                return try JSONIO.response(Shown(id: s.id, url: s.url, events: s.events, active: s.active, createdAt: s.createdAt, secret: nil))
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
        router.get("/alerts", "Alerts raised when jobs end (newest first; limit)") { request, context in
            try context.require([.researcher, .reviewer], to: "read alerts")
            let limit = try request.uri.queryParameters["limit"].map { try ResultRoutes.integer(String($0), "limit") } ?? 100
            return try JSONIO.response(try store.alerts(limit: min(1000, max(1, limit))))
        }
    }
}

import Foundation
import GRDB

extension SQLiteFactorStore: WebhookStore {
    public func insertSubscription(_ s: SubscriptionRecord, actor: String) throws {
        try write { db in
            try db.execute(sql: "INSERT INTO subscriptions (id, url, events, secret, active, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [s.id, s.url, JSON.encode(s.events), s.secret, s.active, s.createdAt])
            try appendAuditRow(db, actor: actor, action: "subscribe", entity: "subscription:" + s.id, before: nil,
                               after: "{\"url\":\(JSON.encode(s.url)),\"events\":\(JSON.encode(s.events))}")
        }
    }

    public func subscriptions() throws -> [SubscriptionRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM subscriptions WHERE removed_at IS NULL ORDER BY created_at").map(Self.subscriptionFrom) }
    }

    public func subscription(id: String) throws -> SubscriptionRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM subscriptions WHERE id = ? AND removed_at IS NULL", arguments: [id]).map(Self.subscriptionFrom) }
    }

    public func deliveries(subscriptionId: String) throws -> [DeliveryRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deliveries WHERE subscription_id = ? ORDER BY id", arguments: [subscriptionId]).map(Self.deliveryFrom)
        }
    }

    public func setSubscriptionActive(id: String, active: Bool, actor: String) throws -> SubscriptionRecord? {
        try write { db in
            guard let before = try Row.fetchOne(db, sql: "SELECT * FROM subscriptions WHERE id = ? AND removed_at IS NULL", arguments: [id]).map(Self.subscriptionFrom) else {
                return nil
            }
            if before.active == active { return before }
            try db.execute(sql: "UPDATE subscriptions SET active = ? WHERE id = ?", arguments: [active, id])
            try appendAuditRow(db, actor: actor, action: active ? "resume-subscription" : "pause-subscription", entity: "subscription:" + id,
                               before: "{\"active\":\(before.active)}", after: "{\"active\":\(active)}")
            var after = before
            after.active = active
            return after
        }
    }

    public func removeSubscription(id: String, actor: String) throws -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE subscriptions SET active = 0, removed_at = ? WHERE id = ? AND removed_at IS NULL", arguments: [Clock.now(), id])
            guard db.changesCount > 0 else { return false }
            try appendAuditRow(db, actor: actor, action: "unsubscribe", entity: "subscription:" + id, before: nil, after: nil)
            return true
        }
    }

    public func dueDeliveries(now: Double, limit: Int) throws -> [(delivery: DeliveryRecord, subscription: SubscriptionRecord)] {
        try read { db in try Self.due(db, now: now, limit: limit) }
    }

    public func claimDueDeliveries(now: Double, claimSeconds: Double, limit: Int) throws -> [(delivery: DeliveryRecord, subscription: SubscriptionRecord)] {
        try write { db in
            let due = try Self.due(db, now: now, limit: limit)
            for (delivery, _) in due {
                try db.execute(sql: "UPDATE deliveries SET next_attempt_at = ? WHERE id = ?", arguments: [now + claimSeconds, delivery.id])
            }
            return due
        }
    }

    private static func due(_ db: Database, now: Double, limit: Int) throws -> [(delivery: DeliveryRecord, subscription: SubscriptionRecord)] {
        try Row.fetchAll(db, sql: """
            SELECT d.*, s.url AS s_url, s.events AS s_events, s.secret AS s_secret, s.active AS s_active, s.created_at AS s_created_at
            FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
            WHERE d.status = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?) AND s.active = 1
            ORDER BY d.id LIMIT ?
            """, arguments: [now, limit]).map { row in
            (Self.deliveryFrom(row),
             SubscriptionRecord(id: row["subscription_id"], url: row["s_url"],
                                events: JSON.decode([WebhookEvent].self, row["s_events"]) ?? [], secret: row["s_secret"],
                                active: row["s_active"], createdAt: row["s_created_at"]))
        }
    }

    public func markDelivered(id: Int64) throws {
        try write { db in
            try db.execute(sql: "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = NULL WHERE id = ? AND status = 'pending'",
                           arguments: [Clock.now(), id])
        }
    }

    public func markAttemptFailed(id: Int64, error: String, nextAttemptAt: Double, giveUp: Bool) throws {
        try write { db in
            try db.execute(sql: "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND status = 'pending'",
                           arguments: [giveUp ? "dead" : "pending", error, nextAttemptAt, id])
        }
    }

    public func deliveries(status: DeliveryRecord.Status?, subscriptionId: String?, limit: Int) throws -> [DeliveryRecord] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM deliveries WHERE (? IS NULL OR status = ?) AND (? IS NULL OR subscription_id = ?) ORDER BY id DESC LIMIT ?
                """, arguments: [status?.rawValue, status?.rawValue, subscriptionId, subscriptionId, limit]).map(Self.deliveryFrom)
        }
    }

    public func redeliver(ids: [Int64]?, subscriptionId: String?, actor: String) throws -> [Int64] {
        try write { db in
            var dead = try Int64.fetchAll(db, sql: """
                SELECT id FROM deliveries WHERE status = 'dead' AND (? IS NULL OR subscription_id = ?)
                AND subscription_id IN (SELECT id FROM subscriptions WHERE removed_at IS NULL) ORDER BY id
                """,
                                          arguments: [subscriptionId, subscriptionId])
            if let ids { dead = dead.filter(Set(ids).contains) }
            for id in dead {
                try db.execute(sql: "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = NULL WHERE id = ?", arguments: [id])
            }
            if !dead.isEmpty {
                try appendAuditRow(db, actor: actor, action: "redeliver", entity: "deliveries", before: nil, after: JSON.encode(dead))
            }
            return dead
        }
    }

    public func insertAlerts(_ alerts: [AlertRecord]) throws {
        try write { db in
            for a in alerts {
                try db.execute(sql: "INSERT INTO alerts (rule, severity, subject, message, job_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [a.rule, a.severity, a.subject, a.message, a.jobId, a.createdAt])
                var stored = a
                stored.id = db.lastInsertedRowID
                try enqueueEvent(db, .alertRaised, payload: JSON.encode(stored))
            }
        }
    }

    public func alerts(limit: Int) throws -> [AlertRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alerts ORDER BY id DESC LIMIT ?", arguments: [limit]).map {
                AlertRecord(id: $0["id"], rule: $0["rule"], severity: $0["severity"], subject: $0["subject"], message: $0["message"],
                            jobId: $0["job_id"], createdAt: $0["created_at"])
            }
        }
    }

    /// Queues `event` for every active subscription to it, inside the caller's transaction (the outbox).
    func enqueueEvent(_ db: Database, _ event: WebhookEvent, payload: String) throws {
        let body = WebhookBody.make(event, payload: payload)
        for row in try Row.fetchAll(db, sql: "SELECT id, events FROM subscriptions WHERE active = 1") {
            let events = JSON.decode([WebhookEvent].self, row["events"]) ?? []
            guard events.contains(event) else { continue }
            try db.execute(sql: "INSERT INTO deliveries (subscription_id, event, payload, status, attempts, created_at) VALUES (?, ?, ?, 'pending', 0, ?)",
                           arguments: [row["id"] as String, event.rawValue, body, Clock.now()])
        }
    }

    static func subscriptionFrom(_ row: Row) -> SubscriptionRecord {
        SubscriptionRecord(id: row["id"], url: row["url"], events: JSON.decode([WebhookEvent].self, row["events"]) ?? [],
                           secret: row["secret"], active: row["active"], createdAt: row["created_at"])
    }

    static func deliveryFrom(_ row: Row) -> DeliveryRecord {
        DeliveryRecord(id: row["id"], subscriptionId: row["subscription_id"], event: WebhookEvent(rawValue: row["event"]) ?? .alertRaised,
                       payload: row["payload"], status: DeliveryRecord.Status(rawValue: row["status"]) ?? .pending,
                       attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"], lastError: row["last_error"],
                       createdAt: row["created_at"], deliveredAt: row["delivered_at"])
    }
}

import Foundation
import GRDB

extension SQLiteFactorStore: WebhookStore {
    public func insertSubscription(_ s: SubscriptionRecord, actor: String) throws {
        try write { db in
            try db.execute(sql: "INSERT INTO subscriptions (id, url, events, secret, active, created_at, kind, filter) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [s.id, s.url, JSON.encode(s.events), s.secret, s.active, s.createdAt, s.kind.rawValue, JSON.encode(s.filter)])
            try appendAuditRow(db, actor: actor, action: "subscribe", entity: "subscription:" + s.id, before: nil, after: SubscriptionAudit.text(s))
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
            SELECT d.*, s.url AS s_url, s.events AS s_events, s.secret AS s_secret, s.active AS s_active, s.created_at AS s_created_at,
                   s.kind AS s_kind, s.filter AS s_filter
            FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
            WHERE d.status = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?) AND s.active = 1
            ORDER BY d.id LIMIT ?
            """, arguments: [now, limit]).map { row in
            (Self.deliveryFrom(row),
             SubscriptionRecord(id: row["subscription_id"], url: row["s_url"],
                                events: JSON.decode([WebhookEvent].self, row["s_events"]) ?? [], secret: row["s_secret"],
                                active: row["s_active"], createdAt: row["s_created_at"],
                                kind: SubscriptionKind(rawValue: row["s_kind"]) ?? .webhook,
                                filter: JSON.decode(SubscriptionFilter.self, row["s_filter"]) ?? SubscriptionFilter()))
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

    public func deliveries(status: DeliveryRecord.Status?, subscriptionId: String?, limit: Int, before: Int64?) throws -> [DeliveryRecord] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM deliveries WHERE (? IS NULL OR status = ?) AND (? IS NULL OR subscription_id = ?) AND (? IS NULL OR id < ?)
                ORDER BY id DESC LIMIT ?
                """, arguments: [status?.rawValue, status?.rawValue, subscriptionId, subscriptionId, before, before, limit]).map(Self.deliveryFrom)
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
                try db.execute(sql: """
                    INSERT INTO alerts (rule, severity, subject, message, job_id, created_at, factor_code, universe, figures)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [a.rule, a.severity, a.subject, a.message, a.jobId, a.createdAt, a.factorCode, a.universe, JSON.encode(a.figures)])
                var stored = a
                stored.id = db.lastInsertedRowID
                let job = try a.jobId.map { try jobScope(db, jobId: $0) } ?? EventScope()
                try enqueueEvent(db, .alertRaised, payload: JSON.encode(stored),
                                 scope: EventScope(factors: a.factorCode.map { [$0] } ?? job.factors,
                                                   universes: a.universe.map { [$0] } ?? job.universes, alertRule: a.rule), jobId: a.jobId)
            }
        }
    }

    public func alerts(limit: Int, unacknowledged: Bool, before: Int64?) throws -> [AlertRecord] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM alerts WHERE (? = 0 OR acknowledged_at IS NULL) AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?
                """, arguments: [unacknowledged ? 1 : 0, before, before, limit]).map(Self.alertFrom)
        }
    }

    public func acknowledgeAlert(id: Int64, actor: String) throws -> AlertRecord? {
        try write { db in
            try db.execute(sql: "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL",
                           arguments: [Clock.now(), actor, id])
            if db.changesCount > 0 {
                try appendAuditRow(db, actor: actor, action: "acknowledge-alert", entity: "alert:\(id)", before: nil, after: nil)
            }
            return try Row.fetchOne(db, sql: "SELECT * FROM alerts WHERE id = ?", arguments: [id]).map(Self.alertFrom)
        }
    }

    public func alertRules() throws -> [AlertRuleRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM alert_rules ORDER BY id").map(Self.alertRuleFrom) }
    }

    public func saveAlertRule(id: String, actor: String, _ change: @escaping @Sendable (AlertRuleRecord?) -> Result<AlertRuleRecord, FieldProblem>) throws
        -> AlertRuleRecord {
        try write { db -> Result<AlertRuleRecord, FieldProblem> in
            let before = try Row.fetchOne(db, sql: "SELECT * FROM alert_rules WHERE id = ?", arguments: [id]).map(Self.alertRuleFrom)
            let outcome = change(before)
            guard case .success(let rule) = outcome else { return outcome }
            var stored = rule
            stored.updatedAt = Clock.now()
            stored.updatedBy = actor
            try db.execute(sql: """
                INSERT INTO alert_rules (id, kind, threshold, lookback, severity, scope, muted, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, threshold = excluded.threshold, lookback = excluded.lookback,
                    severity = excluded.severity, scope = excluded.scope, muted = excluded.muted, updated_at = excluded.updated_at,
                    updated_by = excluded.updated_by
                """, arguments: [stored.id, stored.kind.rawValue, stored.threshold, stored.lookback, stored.severity, JSON.encode(stored.scope),
                                 stored.muted, stored.updatedAt, stored.updatedBy])
            try appendAuditRow(db, actor: actor, action: before == nil ? "add-alert-rule" : "set-alert-rule", entity: "alert-rule:" + rule.id,
                               before: before.map(JSON.encode), after: JSON.encode(stored))
            return .success(stored)
        }.get()
    }

    public func removeAlertRule(id: String, actor: String) throws -> Bool {
        try write { db in
            guard let before = try Row.fetchOne(db, sql: "SELECT * FROM alert_rules WHERE id = ?", arguments: [id]).map(Self.alertRuleFrom) else {
                return false
            }
            try db.execute(sql: "DELETE FROM alert_rules WHERE id = ?", arguments: [id])
            try appendAuditRow(db, actor: actor, action: "remove-alert-rule", entity: "alert-rule:" + id, before: JSON.encode(before), after: nil)
            return true
        }
    }

    static func alertFrom(_ row: Row) -> AlertRecord {
        AlertRecord(id: row["id"], rule: row["rule"], severity: row["severity"], subject: row["subject"], message: row["message"],
                    jobId: row["job_id"], createdAt: row["created_at"], factorCode: row["factor_code"], universe: row["universe"],
                    figures: JSON.decode([String: Double].self, row["figures"]) ?? [:],
                    acknowledgedAt: row["acknowledged_at"], acknowledgedBy: row["acknowledged_by"])
    }

    static func alertRuleFrom(_ row: Row) -> AlertRuleRecord {
        AlertRuleRecord(id: row["id"], kind: AlertRuleKind(rawValue: row["kind"]) ?? .coverage, threshold: row["threshold"], lookback: row["lookback"],
                        severity: row["severity"], scope: JSON.decode(AlertRuleScope.self, row["scope"]) ?? AlertRuleScope(),
                        muted: row["muted"], updatedAt: row["updated_at"], updatedBy: row["updated_by"])
    }

    /// Queues `event` for every active subscription to it whose filter admits `scope`, inside the caller's transaction
    /// (the outbox). The categories of the scope's factors are looked up here.
    func enqueueEvent(_ db: Database, _ event: WebhookEvent, payload: String, scope: EventScope, jobId: String? = nil) throws {
        let body = try appendEvent(db, kind: event.rawValue, jobId: jobId, payload: payload)
        var scope = scope
        if let codes = scope.factors, scope.categories == nil {
            scope.categories = try codes.isEmpty ? [] : String.fetchAll(db, sql: """
                SELECT DISTINCT category FROM factors WHERE code IN (\(codes.map { _ in "?" }.joined(separator: ", ")))
                """, arguments: StatementArguments(codes))
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, events, filter FROM subscriptions WHERE active = 1") {
            let events = JSON.decode([WebhookEvent].self, row["events"]) ?? []
            guard events.contains(event), (JSON.decode(SubscriptionFilter.self, row["filter"]) ?? SubscriptionFilter()).admits(scope) else { continue }
            try db.execute(sql: "INSERT INTO deliveries (subscription_id, event, payload, status, attempts, created_at) VALUES (?, ?, ?, 'pending', 0, ?)",
                           arguments: [row["id"] as String, event.rawValue, body, Clock.now()])
        }
    }

    /// Appends an event to the log the live stream serves, in the caller's transaction; returns its JSON envelope.
    @discardableResult
    func appendEvent(_ db: Database, kind: String, jobId: String?, payload: String) throws -> String {
        let body = WebhookBody.make(kind: kind, payload: payload)
        try db.execute(sql: "INSERT INTO events (kind, job_id, body, created_at) VALUES (?, ?, ?, ?)", arguments: [kind, jobId, body, Clock.now()])
        return body
    }

    /// Logs how a task ended (or that it will be retried) with its job's progress.
    func appendTaskEvent(_ db: Database, taskId: String, kind: String) throws {
        guard let task = try Row.fetchOne(db, sql: "SELECT job_id, status, attempts, error FROM tasks WHERE id = ?", arguments: [taskId]) else { return }
        let jobId: String = task["job_id"]
        let counts = try Row.fetchOne(db, sql: """
            SELECT COUNT(*) AS total, SUM(status IN ('SUCCESS', 'FAILED', 'CANCELLED')) AS done, SUM(status = 'FAILED') AS failed
            FROM tasks WHERE job_id = ?
            """, arguments: [jobId])
        let payload = TaskEventPayload(task: taskId, job: jobId, status: task["status"], attempts: task["attempts"], error: task["error"],
                                       done: counts?["done"] ?? 0, failed: counts?["failed"] ?? 0, total: counts?["total"] ?? 0)
        try appendEvent(db, kind: kind, jobId: jobId, payload: JSON.encode(payload))
    }

    public func events(after: Int64, upTo: Int64?, jobId: String?, limit: Int) throws -> [StreamEvent] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM events WHERE id > ? AND (? IS NULL OR id <= ?) AND (? IS NULL OR job_id = ?) ORDER BY id LIMIT ?
                """, arguments: [after, upTo, upTo, jobId, jobId, limit]).map {
                StreamEvent(id: $0["id"], kind: $0["kind"], jobId: $0["job_id"], body: $0["body"], createdAt: $0["created_at"])
            }
        }
    }

    public func latestEventId() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM events") ?? 0 }
    }

    /// The factors and universes a job's results concern (nil dimensions when it stored none).
    func jobScope(_ db: Database, jobId: String) throws -> EventScope {
        let rows = try Row.fetchAll(db, sql: """
            SELECT DISTINCT factor_code, universe FROM results WHERE run_id = (SELECT run_id FROM jobs WHERE id = ?)
            """, arguments: [jobId])
        guard !rows.isEmpty else { return EventScope() }
        return EventScope(factors: Array(Set(rows.map { $0["factor_code"] as String })).sorted(),
                          universes: Array(Set(rows.map { $0["universe"] as String })).sorted())
    }

    static func subscriptionFrom(_ row: Row) -> SubscriptionRecord {
        SubscriptionRecord(id: row["id"], url: row["url"], events: JSON.decode([WebhookEvent].self, row["events"]) ?? [],
                           secret: row["secret"], active: row["active"], createdAt: row["created_at"],
                           kind: SubscriptionKind(rawValue: row["kind"]) ?? .webhook,
                           filter: JSON.decode(SubscriptionFilter.self, row["filter"]) ?? SubscriptionFilter())
    }

    static func deliveryFrom(_ row: Row) -> DeliveryRecord {
        DeliveryRecord(id: row["id"], subscriptionId: row["subscription_id"], event: WebhookEvent(rawValue: row["event"]) ?? .alertRaised,
                       payload: row["payload"], status: DeliveryRecord.Status(rawValue: row["status"]) ?? .pending,
                       attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"], lastError: row["last_error"],
                       createdAt: row["created_at"], deliveredAt: row["delivered_at"])
    }
}

extension SQLiteFactorStore: EventLog {}

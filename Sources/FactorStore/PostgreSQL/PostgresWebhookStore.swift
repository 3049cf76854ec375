import Foundation
import PostgresNIO

extension PostgresFactorStore: WebhookStore {
    public func insertSubscription(_ sub: SubscriptionRecord, actor: String) throws {
        try write { s in
            try await s.execute("""
                INSERT INTO subscriptions (id, url, events, secret, active, created_at, kind, filter) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, [sub.id, sub.url, JSON.encode(sub.events), sub.secret, sub.active, sub.createdAt, sub.kind.rawValue, JSON.encode(sub.filter)])
            try await self.appendAudit(s, actor: actor, action: "subscribe", entity: "subscription:" + sub.id, before: nil,
                                       after: SubscriptionAudit.text(sub))
        }
    }

    public func subscriptions() throws -> [SubscriptionRecord] {
        try read { s in try await s.rows("SELECT * FROM subscriptions WHERE removed_at IS NULL ORDER BY created_at COLLATE \"C\", id COLLATE \"C\"").map(Self.subscriptionFrom) }
    }

    public func subscription(id: String) throws -> SubscriptionRecord? {
        try read { s in try await s.one("SELECT * FROM subscriptions WHERE id = $1 AND removed_at IS NULL", [id]).map(Self.subscriptionFrom) }
    }

    public func deliveries(subscriptionId: String) throws -> [DeliveryRecord] {
        try read { s in
            try await s.rows("SELECT * FROM deliveries WHERE subscription_id = $1 ORDER BY id", [subscriptionId]).map(Self.deliveryFrom)
        }
    }

    public func setSubscriptionActive(id: String, active: Bool, actor: String) throws -> SubscriptionRecord? {
        try write { s in
            guard let before = try await s.one("SELECT * FROM subscriptions WHERE id = $1 AND removed_at IS NULL FOR UPDATE", [id]).map(Self.subscriptionFrom) else {
                return nil
            }
            if before.active == active { return before }
            try await s.execute("UPDATE subscriptions SET active = $1 WHERE id = $2", [active, id])
            try await self.appendAudit(s, actor: actor, action: active ? "resume-subscription" : "pause-subscription",
                                       entity: "subscription:" + id, before: "{\"active\":\(before.active)}", after: "{\"active\":\(active)}")
            var after = before
            after.active = active
            return after
        }
    }

    public func removeSubscription(id: String, actor: String) throws -> Bool {
        try write { s in
            guard try await s.one("UPDATE subscriptions SET active = false, removed_at = $1 WHERE id = $2 AND removed_at IS NULL RETURNING id",
                                  [Clock.now(), id]) != nil else { return false }
            try await self.appendAudit(s, actor: actor, action: "unsubscribe", entity: "subscription:" + id, before: nil, after: nil)
            return true
        }
    }

    public func dueDeliveries(now: Double, limit: Int) throws -> [(delivery: DeliveryRecord, subscription: SubscriptionRecord)] {
        try read { s in try await Self.due(s, now: now, limit: limit, claim: false) }.map { (delivery: $0.0, subscription: $0.1) }
    }

    public func claimDueDeliveries(now: Double, claimSeconds: Double, limit: Int) throws -> [(delivery: DeliveryRecord, subscription: SubscriptionRecord)] {
        try write { s in
            let due = try await Self.due(s, now: now, limit: limit, claim: true)
            for (delivery, _) in due {
                try await s.execute("UPDATE deliveries SET next_attempt_at = $1 WHERE id = $2", [now + claimSeconds, delivery.id])
            }
            return due
        }.map { (delivery: $0.0, subscription: $0.1) }
    }

    /// Due deliveries; when claiming, rows another sender is claiming are skipped rather than waited for.
    private static func due(_ s: PostgresSession, now: Double, limit: Int, claim: Bool) async throws -> [(DeliveryRecord, SubscriptionRecord)] {
        try await s.rows("""
            SELECT d.*, s.url AS s_url, s.events AS s_events, s.secret AS s_secret, s.active AS s_active, s.created_at AS s_created_at,
                   s.kind AS s_kind, s.filter AS s_filter
            FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
            WHERE d.status = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= $1) AND s.active
            ORDER BY d.id LIMIT $2\(claim ? " FOR UPDATE OF d SKIP LOCKED" : "")
            """, [now, limit]).map { row in
            (try Self.deliveryFrom(row),
             SubscriptionRecord(id: try row.get("subscription_id"), url: try row.get("s_url"),
                                events: JSON.decode([WebhookEvent].self, try row.get("s_events")) ?? [], secret: try row.get("s_secret"),
                                active: try row.get("s_active"), createdAt: try row.get("s_created_at"),
                                kind: SubscriptionKind(rawValue: try row.get("s_kind")) ?? .webhook,
                                filter: JSON.decode(SubscriptionFilter.self, try row.get("s_filter")) ?? SubscriptionFilter()))
        }
    }

    public func markDelivered(id: Int64) throws {
        try write { s in
            try await s.execute("""
                UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = $1, last_error = NULL
                WHERE id = $2 AND status = 'pending'
                """, [Clock.now(), id])
        }
    }

    public func markAttemptFailed(id: Int64, error: String, nextAttemptAt: Double, giveUp: Bool) throws {
        try write { s in
            try await s.execute("""
                UPDATE deliveries SET status = $1, attempts = attempts + 1, last_error = $2, next_attempt_at = $3
                WHERE id = $4 AND status = 'pending'
                """, [giveUp ? "dead" : "pending", error, nextAttemptAt, id])
        }
    }

    public func deliveries(status: DeliveryRecord.Status?, subscriptionId: String?, limit: Int, before: Int64?) throws -> [DeliveryRecord] {
        try read { s in
            try await s.rows("""
                SELECT * FROM deliveries WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR subscription_id = $2)
                AND ($4::bigint IS NULL OR id < $4)
                ORDER BY id DESC LIMIT $3
                """, [status?.rawValue, subscriptionId, limit, before]).map(Self.deliveryFrom)
        }
    }

    public func redeliver(ids: [Int64]?, subscriptionId: String?, actor: String) throws -> [Int64] {
        try write { s in
            var dead: [Int64] = try await s.rows("""
                SELECT id FROM deliveries WHERE status = 'dead' AND ($1::text IS NULL OR subscription_id = $1)
                AND subscription_id IN (SELECT id FROM subscriptions WHERE removed_at IS NULL) ORDER BY id FOR UPDATE
                """, [subscriptionId]).map { try $0.get("id") }
            if let ids { dead = dead.filter(Set(ids).contains) }
            for id in dead {
                try await s.execute("UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = NULL WHERE id = $1", [id])
            }
            if !dead.isEmpty {
                try await self.appendAudit(s, actor: actor, action: "redeliver", entity: "deliveries", before: nil, after: JSON.encode(dead))
            }
            return dead
        }
    }

    public func insertAlerts(_ alerts: [AlertRecord]) throws {
        try write { s in
            for a in alerts {
                guard let row = try await s.one("""
                    INSERT INTO alerts (rule, severity, subject, message, job_id, created_at, factor_code, universe, figures)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
                    """, [a.rule, a.severity, a.subject, a.message, a.jobId, a.createdAt, a.factorCode, a.universe, JSON.encode(a.figures)]) else {
                    throw StoreError.database("the alert insert returned no id")
                }
                var stored = a
                stored.id = try row.get("id")
                var job = EventScope()
                if let jobId = a.jobId { job = try await self.jobScope(s, jobId: jobId) }
                try await self.enqueueEvent(s, .alertRaised, payload: JSON.encode(stored),
                                            scope: EventScope(factors: a.factorCode.map { [$0] } ?? job.factors,
                                                              universes: a.universe.map { [$0] } ?? job.universes, alertRule: a.rule),
                                            jobId: a.jobId)
            }
        }
    }

    public func alerts(limit: Int, unacknowledged: Bool, before: Int64?) throws -> [AlertRecord] {
        try read { s in
            try await s.rows("""
                SELECT * FROM alerts WHERE ($2 = FALSE OR acknowledged_at IS NULL) AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $1
                """, [limit, unacknowledged, before])
                .map(Self.alertFrom)
        }
    }

    public func acknowledgeAlert(id: Int64, actor: String) throws -> AlertRecord? {
        try write { s in
            if try await s.one("""
                UPDATE alerts SET acknowledged_at = $1, acknowledged_by = $2 WHERE id = $3 AND acknowledged_at IS NULL RETURNING id
                """, [Clock.now(), actor, id]) != nil {
                try await self.appendAudit(s, actor: actor, action: "acknowledge-alert", entity: "alert:\(id)", before: nil, after: nil)
            }
            return try await s.one("SELECT * FROM alerts WHERE id = $1", [id]).map(Self.alertFrom)
        }
    }

    public func alertRules() throws -> [AlertRuleRecord] {
        try read { s in try await s.rows("SELECT * FROM alert_rules ORDER BY id COLLATE \"C\"").map(Self.alertRuleFrom) }
    }

    public func saveAlertRule(id: String, actor: String, _ change: @escaping @Sendable (AlertRuleRecord?) -> Result<AlertRuleRecord, FieldProblem>) throws
        -> AlertRuleRecord {
        try write { s -> Result<AlertRuleRecord, FieldProblem> in
            // A new id is serialised too: two creators of one id wait for each other on this lock.
            try await s.execute("SELECT pg_advisory_xact_lock(hashtext($1))", [id])
            let before = try await s.one("SELECT * FROM alert_rules WHERE id = $1 FOR UPDATE", [id]).map(Self.alertRuleFrom)
            let outcome = change(before)
            guard case .success(let rule) = outcome else { return outcome }
            var stored = rule
            stored.updatedAt = Clock.now()
            stored.updatedBy = actor
            try await s.execute("""
                INSERT INTO alert_rules (id, kind, threshold, lookback, severity, scope, muted, updated_at, updated_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, threshold = excluded.threshold, lookback = excluded.lookback,
                    severity = excluded.severity, scope = excluded.scope, muted = excluded.muted, updated_at = excluded.updated_at,
                    updated_by = excluded.updated_by
                """, [stored.id, stored.kind.rawValue, stored.threshold, stored.lookback, stored.severity, JSON.encode(stored.scope),
                      stored.muted, stored.updatedAt, stored.updatedBy])
            try await self.appendAudit(s, actor: actor, action: before == nil ? "add-alert-rule" : "set-alert-rule", entity: "alert-rule:" + rule.id,
                                       before: before.map(JSON.encode), after: JSON.encode(stored))
            return .success(stored)
        }.get()
    }

    public func removeAlertRule(id: String, actor: String) throws -> Bool {
        try write { s in
            guard let before = try await s.one("DELETE FROM alert_rules WHERE id = $1 RETURNING *", [id]).map(Self.alertRuleFrom) else { return false }
            try await self.appendAudit(s, actor: actor, action: "remove-alert-rule", entity: "alert-rule:" + id, before: JSON.encode(before), after: nil)
            return true
        }
    }

    /// Queues `event` for every active subscription to it whose filter admits `scope`, inside the caller's transaction
    /// (the outbox). The categories of the scope's factors are looked up here.
    func enqueueEvent(_ s: PostgresSession, _ event: WebhookEvent, payload: String, scope: EventScope, jobId: String? = nil) async throws {
        let body = try await appendEvent(s, kind: event.rawValue, jobId: jobId, payload: payload)
        var scope = scope
        if let codes = scope.factors, scope.categories == nil {
            var categories: [String] = []
            if !codes.isEmpty {
                let marks = codes.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
                for row in try await s.rows("SELECT DISTINCT category FROM factors WHERE code IN (\(marks))", codes) { categories.append(try row.get("category")) }
            }
            scope.categories = categories
        }
        for row in try await s.rows("SELECT id, events, filter FROM subscriptions WHERE active ORDER BY created_at COLLATE \"C\", id COLLATE \"C\"") {
            let events = JSON.decode([WebhookEvent].self, try row.get("events")) ?? []
            guard events.contains(event), (JSON.decode(SubscriptionFilter.self, try row.get("filter")) ?? SubscriptionFilter()).admits(scope) else { continue }
            try await s.execute("""
                INSERT INTO deliveries (subscription_id, event, payload, status, attempts, created_at) VALUES ($1, $2, $3, 'pending', 0, $4)
                """, [try row.get("id", String.self), event.rawValue, body, Clock.now()])
        }
    }

    /// Appends an event to the log the live stream serves, in the caller's transaction; returns its JSON envelope.
    @discardableResult
    func appendEvent(_ s: PostgresSession, kind: String, jobId: String?, payload: String) async throws -> String {
        let body = WebhookBody.make(kind: kind, payload: payload)
        // Ids in commit order: the lock is held until this transaction ends, so the next writer takes its id after
        // this one's are committed (or rolled back), and a reader that sees id n has seen every committed id below it.
        try await s.execute("SELECT pg_advisory_xact_lock(\(Self.eventLogLock))")
        try await s.execute("INSERT INTO events (kind, job_id, body, created_at) VALUES ($1, $2, $3, $4)", [kind, jobId, body, Clock.now()])
        return body
    }

    /// Logs how a task ended (or that it will be retried) with its job's progress.
    func appendTaskEvent(_ s: PostgresSession, taskId: String, kind: String) async throws {
        guard let task = try await s.one("SELECT job_id, status, attempts, error FROM tasks WHERE id = $1", [taskId]) else { return }
        let jobId: String = try task.get("job_id")
        // Counted before the event log's lock (counting under it serialised every task end behind a scan of its job and
        // cost a third of the queue's throughput): two ends of one job at the same moment may report the same `done`;
        // the job's end (`job.status`, `job.succeeded`) is exact.
        let counts = try await s.one("""
            SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE status IN ('SUCCESS', 'FAILED', 'CANCELLED')) AS done,
                   COUNT(*) FILTER (WHERE status = 'FAILED') AS failed
            FROM tasks WHERE job_id = $1
            """, [jobId])
        let payload = TaskEventPayload(task: taskId, job: jobId, status: try task.get("status"), attempts: try task.get("attempts"),
                                       error: try task.optional("error"), done: try counts?.get("done", Int.self) ?? 0,
                                       failed: try counts?.get("failed", Int.self) ?? 0, total: try counts?.get("total", Int.self) ?? 0)
        try await appendEvent(s, kind: kind, jobId: jobId, payload: JSON.encode(payload))
    }

    public func events(after: Int64, upTo: Int64?, jobId: String?, limit: Int) throws -> [StreamEvent] {
        try read { s in
            try await s.rows("""
                SELECT * FROM events WHERE id > $1 AND ($2::BIGINT IS NULL OR id <= $2) AND ($3::TEXT IS NULL OR job_id = $3) ORDER BY id LIMIT $4
                """, [after, upTo, jobId, limit]).map {
                StreamEvent(id: try $0.get("id"), kind: try $0.get("kind"), jobId: try $0.optional("job_id"), body: try $0.get("body"),
                            createdAt: try $0.get("created_at"))
            }
        }
    }

    public func latestEventId() throws -> Int64 {
        try read { s in try await s.one("SELECT COALESCE(MAX(id), 0) AS n FROM events")?.get("n", Int64.self) ?? 0 }
    }

    /// The advisory lock key of the event log ("FLEV").
    static let eventLogLock: Int64 = 0x464C_4556

    /// The factors and universes a job's results concern (nil dimensions when it stored none).
    func jobScope(_ s: PostgresSession, jobId: String) async throws -> EventScope {
        var factors = Set<String>(), universes = Set<String>()
        for row in try await s.rows("SELECT DISTINCT factor_code, universe FROM results WHERE run_id = (SELECT run_id FROM jobs WHERE id = $1)", [jobId]) {
            factors.insert(try row.get("factor_code"))
            universes.insert(try row.get("universe"))
        }
        guard !factors.isEmpty else { return EventScope() }
        return EventScope(factors: factors.sorted(), universes: universes.sorted())
    }

    static func alertFrom(_ row: PostgresRecord) throws -> AlertRecord {
        AlertRecord(id: try row.get("id"), rule: try row.get("rule"), severity: try row.get("severity"), subject: try row.get("subject"),
                    message: try row.get("message"), jobId: try row.optional("job_id"), createdAt: try row.get("created_at"),
                    factorCode: try row.optional("factor_code"), universe: try row.optional("universe"),
                    figures: JSON.decode([String: Double].self, try row.get("figures")) ?? [:],
                    acknowledgedAt: try row.optional("acknowledged_at"), acknowledgedBy: try row.optional("acknowledged_by"))
    }

    static func alertRuleFrom(_ row: PostgresRecord) throws -> AlertRuleRecord {
        AlertRuleRecord(id: try row.get("id"), kind: AlertRuleKind(rawValue: try row.get("kind")) ?? .coverage, threshold: try row.get("threshold"),
                        lookback: try row.get("lookback"), severity: try row.get("severity"),
                        scope: JSON.decode(AlertRuleScope.self, try row.get("scope")) ?? AlertRuleScope(), muted: try row.get("muted"),
                        updatedAt: try row.get("updated_at"), updatedBy: try row.get("updated_by"))
    }

    static func subscriptionFrom(_ row: PostgresRecord) throws -> SubscriptionRecord {
        SubscriptionRecord(id: try row.get("id"), url: try row.get("url"), events: JSON.decode([WebhookEvent].self, try row.get("events")) ?? [],
                           secret: try row.get("secret"), active: try row.get("active"), createdAt: try row.get("created_at"),
                           kind: SubscriptionKind(rawValue: try row.get("kind")) ?? .webhook,
                           filter: JSON.decode(SubscriptionFilter.self, try row.get("filter")) ?? SubscriptionFilter())
    }

    static func deliveryFrom(_ row: PostgresRecord) throws -> DeliveryRecord {
        DeliveryRecord(id: try row.get("id"), subscriptionId: try row.get("subscription_id"),
                       event: WebhookEvent(rawValue: try row.get("event")) ?? .alertRaised, payload: try row.get("payload"),
                       status: DeliveryRecord.Status(rawValue: try row.get("status")) ?? .pending, attempts: try row.get("attempts"),
                       nextAttemptAt: try row.optional("next_attempt_at"), lastError: try row.optional("last_error"),
                       createdAt: try row.get("created_at"), deliveredAt: try row.optional("delivered_at"))
    }
}

extension PostgresFactorStore: EventLog {}

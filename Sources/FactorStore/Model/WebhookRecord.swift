/// Events a subscription can receive.
public enum WebhookEvent: String, Codable, Sendable, CaseIterable {
    case jobSucceeded = "job.succeeded"
    case jobFailed = "job.failed"
    case factorApproved = "factor.approved"
    case alertRaised = "alert.raised"
}

/// A subscription: which events (through which filter) go where, by which channel, and the secret that signs them.
public struct SubscriptionRecord: Codable, Sendable, Equatable {
    public var id: String
    /// The channel's target: a URL, or email addresses separated by commas (`kind` says which).
    public var url: String
    public var events: [WebhookEvent]
    /// The webhook's HMAC key, the DingTalk/Feishu signing secret; empty when the channel has none.
    public var secret: String
    public var active: Bool
    public var createdAt: String
    public var kind: SubscriptionKind
    public var filter: SubscriptionFilter

    public init(id: String, url: String, events: [WebhookEvent], secret: String, active: Bool = true, createdAt: String,
                kind: SubscriptionKind = .webhook, filter: SubscriptionFilter = SubscriptionFilter()) {
        self.id = id
        self.url = url
        self.events = events
        self.secret = secret
        self.active = active
        self.createdAt = createdAt
        self.kind = kind
        self.filter = filter
    }

    /// The target with its credentials hidden, for listings: IM URLs carry their bot's token in the path or query.
    public var displayTarget: String {
        guard kind != .email, kind != .webhook, let parts = URLComponentsLite(url) else { return url }
        return parts.schemeAndHost + "/…"
    }
}

/// The scheme and host of a URL without Foundation's URL (which would pull in more than a listing needs).
struct URLComponentsLite {
    var schemeAndHost: String
    init?(_ url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        var host = rest.prefix { $0 != "/" && $0 != "?" }
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }  // no user:password
        schemeAndHost = String(url[..<schemeEnd.upperBound]) + host
    }
}

/// One event for one subscription, written to the outbox in the transaction that raised the event.
public struct DeliveryRecord: Codable, Sendable, Equatable {
    /// `dead`: every retry failed; it stays in the outbox until redelivered.
    public enum Status: String, Codable, Sendable, CaseIterable { case pending, delivered, dead }
    public var id: Int64
    public var subscriptionId: String
    public var event: WebhookEvent
    /// The JSON body to send.
    public var payload: String
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Double?
    public var lastError: String?
    public var createdAt: String
    public var deliveredAt: String?
}

/// A stored alert: the rule that raised it, what it is about, the figures that triggered it, and whether someone
/// has acknowledged it.
public struct AlertRecord: Codable, Sendable, Equatable {
    public var id: Int64
    /// The id of the rule (`AlertRuleRecord.id`) that raised it.
    public var rule: String
    public var severity: String
    public var subject: String
    public var message: String
    public var jobId: String?
    public var createdAt: String
    /// The factor and universe a result alert is about (nil for job-level alerts).
    public var factorCode: String?
    public var universe: String?
    /// The figures the rule compared: the observed value, the threshold, and what the rule's kind adds (the P95 and
    /// history size, the previous IC and its run…).
    public var figures: [String: Double]
    public var acknowledgedAt: String?
    public var acknowledgedBy: String?

    public init(id: Int64 = 0, rule: String, severity: String, subject: String, message: String, jobId: String?, createdAt: String,
                factorCode: String? = nil, universe: String? = nil, figures: [String: Double] = [:],
                acknowledgedAt: String? = nil, acknowledgedBy: String? = nil) {
        self.id = id
        self.rule = rule
        self.severity = severity
        self.subject = subject
        self.message = message
        self.jobId = jobId
        self.createdAt = createdAt
        self.factorCode = factorCode
        self.universe = universe
        self.figures = figures
        self.acknowledgedAt = acknowledgedAt
        self.acknowledgedBy = acknowledgedBy
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        rule = try c.decode(String.self, forKey: .rule)
        severity = try c.decode(String.self, forKey: .severity)
        subject = try c.decode(String.self, forKey: .subject)
        message = try c.decode(String.self, forKey: .message)
        jobId = try c.decodeIfPresent(String.self, forKey: .jobId)
        createdAt = try c.decode(String.self, forKey: .createdAt)
        factorCode = try c.decodeIfPresent(String.self, forKey: .factorCode)
        universe = try c.decodeIfPresent(String.self, forKey: .universe)
        figures = try c.decodeIfPresent([String: Double].self, forKey: .figures) ?? [:]
        acknowledgedAt = try c.decodeIfPresent(String.self, forKey: .acknowledgedAt)
        acknowledgedBy = try c.decodeIfPresent(String.self, forKey: .acknowledgedBy)
    }
}

/// Subscriptions, the delivery outbox and alerts.
public protocol WebhookStore: Sendable {
    func insertSubscription(_ subscription: SubscriptionRecord, actor: String) throws
    func subscriptions() throws -> [SubscriptionRecord]
    func subscription(id: String) throws -> SubscriptionRecord?
    func deliveries(subscriptionId: String) throws -> [DeliveryRecord]
    /// Pauses (no new events are queued for it and its pending deliveries wait) or resumes a subscription; audited.
    /// Returns the subscription, or nil when there is none with that id.
    func setSubscriptionActive(id: String, active: Bool, actor: String) throws -> SubscriptionRecord?
    /// Ends a subscription: it gets no more events, its queued deliveries are not sent, and it is no longer listed; its
    /// delivery history stays in the outbox. Audited; false when there is no such (live) subscription.
    func removeSubscription(id: String, actor: String) throws -> Bool
    /// Pending deliveries whose next attempt is due, oldest first, with their subscriptions.
    func dueDeliveries(now: Double, limit: Int) throws -> [(delivery: DeliveryRecord, subscription: SubscriptionRecord)]
    /// Claims the due deliveries for one sender: each is hidden from other senders for `claimSeconds` (its next
    /// attempt moves past the claim), so several processes can send from one outbox without sending twice; a sender
    /// that dies mid-send leaves its claims to expire and be sent again (at least once).
    func claimDueDeliveries(now: Double, claimSeconds: Double, limit: Int) throws -> [(delivery: DeliveryRecord, subscription: SubscriptionRecord)]
    func markDelivered(id: Int64) throws
    /// Records a failed attempt: retried at `nextAttemptAt`, or dead when `giveUp`.
    func markAttemptFailed(id: Int64, error: String, nextAttemptAt: Double, giveUp: Bool) throws
    /// Deliveries of every subscription (or one), newest first, optionally of one status.
    /// Newest first; `before`: only deliveries with a smaller id (the next page after that one).
    func deliveries(status: DeliveryRecord.Status?, subscriptionId: String?, limit: Int, before: Int64?) throws -> [DeliveryRecord]
    /// Puts dead deliveries back in the outbox, due now with their attempts reset and their body (so their event id)
    /// unchanged: the ones in `ids`, or every dead one (of `subscriptionId` when given) when `ids` is nil. Deliveries
    /// that are not dead are left alone. Audited; returns the ids requeued.
    func redeliver(ids: [Int64]?, subscriptionId: String?, actor: String) throws -> [Int64]
    /// Stores alerts and queues `alert.raised` for each, in one transaction.
    func insertAlerts(_ alerts: [AlertRecord]) throws
    /// Newest first; only those nobody has acknowledged when `unacknowledged`.
    /// Newest first; `before`: only alerts with a smaller id (the next page after that one).
    func alerts(limit: Int, unacknowledged: Bool, before: Int64?) throws -> [AlertRecord]
    /// Marks an alert acknowledged by `actor` (the first acknowledgement stands); audited. nil when there is none.
    func acknowledgeAlert(id: Int64, actor: String) throws -> AlertRecord?

    /// Every alert rule, by id.
    func alertRules() throws -> [AlertRuleRecord]
    /// Creates or changes the rule `id` in one transaction: `change` gets the stored rule (nil for a new id) and returns
    /// the rule to store (its `updatedAt`/`updatedBy` are set here) or why not (then nothing is written and the problem
    /// is thrown as it is). Audited with the rule before and after. Returns the stored rule.
    func saveAlertRule(id: String, actor: String, _ change: @escaping @Sendable (AlertRuleRecord?) -> Result<AlertRuleRecord, FieldProblem>) throws
        -> AlertRuleRecord
    /// Deletes a rule (its alerts stay); audited. false when there is none.
    func removeAlertRule(id: String, actor: String) throws -> Bool
}

extension WebhookStore {
    public func alerts(limit: Int) throws -> [AlertRecord] { try alerts(limit: limit, unacknowledged: false, before: nil) }
    public func alerts(limit: Int, unacknowledged: Bool) throws -> [AlertRecord] { try alerts(limit: limit, unacknowledged: unacknowledged, before: nil) }
    public func deliveries(status: DeliveryRecord.Status?, subscriptionId: String?, limit: Int) throws -> [DeliveryRecord] {
        try deliveries(status: status, subscriptionId: subscriptionId, limit: limit, before: nil)
    }

    /// Stores `rule` as it is (created or replaced).
    public func saveAlertRule(_ rule: AlertRuleRecord, actor: String) throws -> AlertRuleRecord {
        try saveAlertRule(id: rule.id, actor: actor) { _ in .success(rule) }
    }
}

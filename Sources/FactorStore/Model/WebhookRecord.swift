/// Events a subscription can receive.
public enum WebhookEvent: String, Codable, Sendable, CaseIterable {
    case jobSucceeded = "job.succeeded"
    case jobFailed = "job.failed"
    case factorApproved = "factor.approved"
    case alertRaised = "alert.raised"
}

/// A webhook subscription: where to POST which events, and the secret that signs them.
public struct SubscriptionRecord: Codable, Sendable, Equatable {
    public var id: String
    public var url: String
    public var events: [WebhookEvent]
    public var secret: String
    public var active: Bool
    public var createdAt: String

    public init(id: String, url: String, events: [WebhookEvent], secret: String, active: Bool = true, createdAt: String) {
        self.id = id
        self.url = url
        self.events = events
        self.secret = secret
        self.active = active
        self.createdAt = createdAt
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

/// A stored alert.
public struct AlertRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var rule: String
    public var severity: String
    public var subject: String
    public var message: String
    public var jobId: String?
    public var createdAt: String

    public init(id: Int64 = 0, rule: String, severity: String, subject: String, message: String, jobId: String?, createdAt: String) {
        self.id = id
        self.rule = rule
        self.severity = severity
        self.subject = subject
        self.message = message
        self.jobId = jobId
        self.createdAt = createdAt
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
    func deliveries(status: DeliveryRecord.Status?, subscriptionId: String?, limit: Int) throws -> [DeliveryRecord]
    /// Puts dead deliveries back in the outbox, due now with their attempts reset and their body (so their event id)
    /// unchanged: the ones in `ids`, or every dead one (of `subscriptionId` when given) when `ids` is nil. Deliveries
    /// that are not dead are left alone. Audited; returns the ids requeued.
    func redeliver(ids: [Int64]?, subscriptionId: String?, actor: String) throws -> [Int64]
    /// Stores alerts and queues `alert.raised` for each, in one transaction.
    func insertAlerts(_ alerts: [AlertRecord]) throws
    func alerts(limit: Int) throws -> [AlertRecord]
}

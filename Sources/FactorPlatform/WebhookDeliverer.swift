import FactorCore
import FactorStore
import Foundation
import Logging

/// Sends queued webhook deliveries: POSTs the event JSON with HMAC-SHA256 signature headers, marks it delivered on
/// a 2xx answer, otherwise retries with exponential backoff (1 s, 2 s, 4 s … capped at an hour) and gives up after
/// `maxAttempts`. A receiver that is down loses nothing: the delivery waits in the outbox.
///
/// Headers: `X-FactorLab-Event`, `X-FactorLab-Event-Id` (the event's id, also the body's `id`: the same on a retry and
/// on a redelivery, so receivers can drop repeats), `X-FactorLab-Delivery` (the delivery id), `X-FactorLab-Timestamp`
/// (seconds since 1970), `X-FactorLab-Signature: sha256=<hex HMAC of "timestamp.body">`. A delivery whose retries all
/// fail is `dead`: it stays in the outbox until `redeliver` puts it back.
public final class WebhookDeliverer: @unchecked Sendable {
    public let store: any WebhookStore
    public let maxAttempts: Int
    public let baseBackoff: Double
    public let timeout: Double
    private let logger = Logger(label: "factorlab.webhooks")

    public init(store: any WebhookStore, maxAttempts: Int = 12, baseBackoff: Double = 1, timeout: Double = 10) {
        self.store = store
        self.maxAttempts = maxAttempts
        self.baseBackoff = baseBackoff
        self.timeout = timeout
    }

    /// The signature a receiver recomputes to check a delivery.
    public static func signature(secret: String, timestamp: String, body: String) -> String {
        "sha256=" + HMACSHA256.hex(key: secret, message: timestamp + "." + body)
    }

    /// Attempts every due delivery once; returns how many were delivered.
    @discardableResult
    public func deliverDue(now: Double = Date().timeIntervalSince1970, limit: Int = 100) async -> Int {
        // Claimed for longer than one send can take, so another process's deliverer skips them meanwhile.
        guard let due = try? store.claimDueDeliveries(now: now, claimSeconds: timeout * 3 + 30, limit: limit) else { return 0 }
        var delivered = 0
        for (delivery, subscription) in due {
            guard let url = URL(string: subscription.url), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  url.host != nil else {
                try? store.markAttemptFailed(id: delivery.id, error: "invalid URL \(subscription.url)", nextAttemptAt: now, giveUp: true)
                continue
            }
            let timestamp = String(Int(now))
            var headers = [
                ("Content-Type", "application/json"),
                ("X-FactorLab-Event", delivery.event.rawValue),
                ("X-FactorLab-Delivery", String(delivery.id)),
                ("X-FactorLab-Timestamp", timestamp),
                ("X-FactorLab-Signature", Self.signature(secret: subscription.secret, timestamp: timestamp, body: delivery.payload)),
            ]
            if let eventId = WebhookBody.eventId(of: delivery.payload) { headers.append(("X-FactorLab-Event-Id", eventId)) }
            do {
                let status = try await HTTPSender.send(subscription.url, headers: headers, body: Data(delivery.payload.utf8), timeout: timeout).status
                if (200..<300).contains(status) {
                    try? store.markDelivered(id: delivery.id)
                    delivered += 1
                    logger.info("delivered \(delivery.event.rawValue)", metadata: ["delivery": "\(delivery.id)", "url": "\(subscription.url)"])
                } else {
                    fail(delivery, subscription, "HTTP \(status)", now: now)
                }
            } catch {
                fail(delivery, subscription, HTTPSender.describe(error, timeout: timeout), now: now)
            }
        }
        return delivered
    }

    private func fail(_ delivery: DeliveryRecord, _ subscription: SubscriptionRecord, _ error: String, now: Double) {
        let attempt = delivery.attempts + 1
        let backoff = min(3600, baseBackoff * pow(2, Double(attempt - 1)))
        let giveUp = attempt >= maxAttempts
        try? store.markAttemptFailed(id: delivery.id, error: error, nextAttemptAt: now + backoff, giveUp: giveUp)
        logger.warning(giveUp ? "delivery dead after \(attempt) attempts (redeliver puts it back)" : "delivery failed; retrying in \(Int(backoff)) s",
                       metadata: ["delivery": "\(delivery.id)", "event": "\(delivery.event.rawValue)", "url": "\(subscription.url)", "error": "\(error)"])
    }

    /// Delivers in the background every `interval` seconds until the task is cancelled.
    public func start(interval: Double = 1) -> Task<Void, Never> {
        Task.detached { [self] in
            while !Task.isCancelled {
                await deliverDue()
                try? await Task.sleep(for: .seconds(interval))
            }
        }
    }
}

import FactorCore
import FactorStore
import Foundation
import Logging

/// Sends queued deliveries by their subscription's channel: webhooks get the event JSON with HMAC-SHA256 signature
/// headers; email goes over SMTP (`SMTPMailer`, text and HTML with the job's Top-N); DingTalk, Feishu, WeCom and Slack
/// get a Markdown card in their documented format (`ChatMessage`). A delivery is marked delivered on acceptance,
/// otherwise retried with exponential backoff (1 s, 2 s, 4 s … capped at an hour) and given up after `maxAttempts`.
/// A receiver that is down loses nothing: the delivery waits in the outbox.
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

    /// The SMTP server for email subscriptions, read when an email is first sent (so a bad setting fails deliveries,
    /// naming the variable, rather than the process).
    private let smtp: @Sendable () throws -> SMTPSettings?

    public init(store: any WebhookStore, maxAttempts: Int = 12, baseBackoff: Double = 1, timeout: Double = 10,
                smtp: @escaping @Sendable () throws -> SMTPSettings? = { try SMTPSettings.fromEnvironment() }) {
        self.store = store
        self.smtp = smtp
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
        // One claim per send, for longer than a send can take (an email: connect plus the conversation), so another
        // process's deliverer skips it meanwhile and a batch never outlives its claims.
        let claimSeconds = max(timeout, 30) * 2 + 30
        var delivered = 0
        for _ in 0..<limit {
            guard let (delivery, subscription) = (try? store.claimDueDeliveries(now: now, claimSeconds: claimSeconds, limit: 1))?.first else { break }
            switch await attempt(delivery, subscription, now: now) {
            case .delivered:
                try? store.markDelivered(id: delivery.id)
                delivered += 1
                logger.info("delivered \(delivery.event.rawValue)", metadata: ["delivery": "\(delivery.id)", "kind": "\(subscription.kind.rawValue)",
                                                                              "to": "\(subscription.displayTarget)"])
            case .failed(let reason):
                fail(delivery, subscription, reason, now: now)
            case .impossible(let reason):
                // Retrying cannot help (a malformed target): dead at once, redeliverable once mended.
                try? store.markAttemptFailed(id: delivery.id, error: reason, nextAttemptAt: now, giveUp: true)
                logger.warning("delivery dead: \(reason)", metadata: ["delivery": "\(delivery.id)", "kind": "\(subscription.kind.rawValue)"])
            }
        }
        return delivered
    }

    enum Outcome { case delivered, failed(String), impossible(String) }

    /// One attempt by the subscription's channel.
    func attempt(_ delivery: DeliveryRecord, _ subscription: SubscriptionRecord, now: Double) async -> Outcome {
        if subscription.kind == .email {
            let to: [String]
            do { to = try EmailAddress.list(subscription.url) } catch { return .impossible(String(describing: error)) }
            do {
                guard let settings = try smtp() else { return .failed(ChannelError.smtpNotConfigured.description) }
                try await SMTPMailer.send(MailMessage(EventMessage(body: delivery.payload), from: settings.from, to: to), settings: settings,
                                          timeout: max(timeout, 30))
                return .delivered
            } catch {
                return .failed(error is ChannelError ? String(describing: error) : HTTPSender.describe(error, timeout: max(timeout, 30)))
            }
        }
        guard let url = URL(string: subscription.url), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil else {
            return .impossible("invalid URL \(subscription.displayTarget)")
        }
        var target = subscription.url
        var headers: [(String, String)]
        var body = Data(delivery.payload.utf8)
        if subscription.kind == .webhook {
            let timestamp = String(Int(now))
            headers = [
                ("Content-Type", "application/json"),
                ("X-FactorLab-Event", delivery.event.rawValue),
                ("X-FactorLab-Delivery", String(delivery.id)),
                ("X-FactorLab-Timestamp", timestamp),
                ("X-FactorLab-Signature", Self.signature(secret: subscription.secret, timestamp: timestamp, body: delivery.payload)),
            ]
            if let eventId = WebhookBody.eventId(of: delivery.payload) { headers.append(("X-FactorLab-Event-Id", eventId)) }
        } else {
            do {
                let chat = try ChatMessage(kind: subscription.kind, url: subscription.url, secret: subscription.secret,
                                           message: EventMessage(body: delivery.payload), now: Date(timeIntervalSince1970: now))
                target = chat.url
                body = chat.body
            } catch {
                return .impossible(String(describing: error))
            }
            headers = [("Content-Type", "application/json; charset=utf-8")]
        }
        do {
            let answer = try await HTTPSender.send(target, headers: headers, body: body, timeout: timeout)
            if subscription.kind == .webhook {
                return (200..<300).contains(answer.status) ? .delivered : .failed("HTTP \(answer.status)")
            }
            return ChatMessage.refusal(kind: subscription.kind, status: answer.status, body: answer.body).map(Outcome.failed) ?? .delivered
        } catch {
            return .failed(HTTPSender.describe(error, timeout: timeout))
        }
    }

    private func fail(_ delivery: DeliveryRecord, _ subscription: SubscriptionRecord, _ error: String, now: Double) {
        let attempt = delivery.attempts + 1
        let backoff = min(3600, baseBackoff * pow(2, Double(attempt - 1)))
        let giveUp = attempt >= maxAttempts
        try? store.markAttemptFailed(id: delivery.id, error: error, nextAttemptAt: now + backoff, giveUp: giveUp)
        logger.warning(giveUp ? "delivery dead after \(attempt) attempts (redeliver puts it back)" : "delivery failed; retrying in \(Int(backoff)) s",
                       metadata: ["delivery": "\(delivery.id)", "event": "\(delivery.event.rawValue)", "to": "\(subscription.displayTarget)", "error": "\(error)"])
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

import ArgumentParser
import FactorStore
import Foundation

/// `factorlab subscribe`: a webhook subscription, as `POST /subscriptions` makes it.
struct SubscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Subscribe a URL to events; deliveries are signed with the secret (printed once).")
    @OptionGroup var store: StoreOptions
    @Option(help: "The http(s) URL that receives the events.") var to: String
    @Option(help: "Comma-separated events: \(WebhookEvent.allCases.map(\.rawValue).joined(separator: ", ")).")
    var events: String = WebhookEvent.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "The signing secret, 16+ characters (default: a new random one).") var secret: String?

    func run() throws {
        guard let url = URL(string: to), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw ValidationError("--to must be an http(s) URL, got '\(to)'")
        }
        var list: [WebhookEvent] = []
        for name in events.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let event = WebhookEvent(rawValue: name) else {
                throw ValidationError("unknown event '\(name)'; events: \(WebhookEvent.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            list.append(event)
        }
        guard !list.isEmpty else { throw ValidationError("--events must name at least one event") }
        let key = secret ?? UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        guard key.count >= 16 else { throw ValidationError("--secret must have at least 16 characters") }
        let subscription = SubscriptionRecord(id: UUID().uuidString.lowercased(), url: to, events: list, secret: key, createdAt: Clock.now())
        try store.openStore().insertSubscription(subscription, actor: StoreOptions.actor)
        if store.json { try store.printJSON(["id": subscription.id, "url": to, "secret": key]); return }
        print("subscription \(subscription.id): \(list.map(\.rawValue).joined(separator: ", ")) → \(to)")
        print("signing secret (shown once): \(key)")
    }
}

/// `factorlab subscriptions`: the live subscriptions, without their secrets.
struct SubscriptionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "subscriptions", abstract: "Webhook subscriptions (secrets are never shown again).")
    @OptionGroup var store: StoreOptions

    func run() throws {
        let list = try store.openStore().subscriptions()
        if store.json {
            try store.printJSON(list.map { ["id": $0.id, "url": $0.url, "events": $0.events.map(\.rawValue).joined(separator: ","),
                                           "active": $0.active ? "true" : "false", "createdAt": $0.createdAt] })
            return
        }
        print(Terminal.table(["id", "url", "events", "state", "created"], list.map {
            [$0.id, $0.url, $0.events.map(\.rawValue).joined(separator: ","), $0.active ? "active" : "paused", $0.createdAt]
        }))
    }
}

/// `factorlab unsubscribe ID`.
struct UnsubscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unsubscribe",
        abstract: "End a subscription: no more events, its queued deliveries are not sent; its history stays in the outbox.")
    @OptionGroup var store: StoreOptions
    @Argument var id: String

    func run() throws {
        guard try store.openStore().removeSubscription(id: id, actor: StoreOptions.actor) else {
            throw CLIError("no subscription with id \(id) (see `factorlab subscriptions`)")
        }
        if store.json { try store.printJSON(["unsubscribed": id]); return }
        print("unsubscribed \(id)")
    }
}

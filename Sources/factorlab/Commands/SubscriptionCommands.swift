import ArgumentParser
import FactorPlatform
import FactorStore
import Foundation

/// `factorlab subscribe`: a subscription by any channel, as `POST /subscriptions` makes it.
struct SubscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Subscribe a webhook, email addresses or a chat bot (DingTalk, Feishu/Lark, WeCom, Slack) to events, with optional filters.",
        discussion: """
            Webhooks are signed with the secret (printed once). Email goes through the SMTP server of FACTOR_SMTP_HOST, \
            FACTOR_SMTP_PORT, FACTOR_SMTP_FROM, FACTOR_SMTP_USER, FACTOR_SMTP_PASSWORD and FACTOR_SMTP_STARTTLS, set where \
            deliveries are sent (serve, workers). DingTalk and Feishu bots with a signing secret take it as --secret.
            Filters narrow what is sent: --factors and --categories (the event concerns one of them), --universes, and \
            --alert-rules (which alerts); a filter applies only to events that carry its dimension.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "The channel: \(SubscriptionKind.allCases.map(\.rawValue).joined(separator: ", ")).") var kind: String = "webhook"
    @Option(help: "Where to send: the http(s) URL, or email addresses separated by commas.") var to: String
    @Option(help: "Comma-separated events: \(WebhookEvent.allCases.map(\.rawValue).joined(separator: ", ")).")
    var events: String = WebhookEvent.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "The webhook's signing secret, 16+ characters (default: a new random one); a DingTalk or Feishu bot's signing secret.")
    var secret: String?
    @Option(help: "Only events about these factor codes (comma-separated).") var factors: String?
    @Option(help: "Only events about factors of these categories.") var categories: String?
    @Option(help: "Only events about these universes.") var universes: String?
    @Option(help: "Only alerts of these rules (ic_drop, coverage, …).") var alertRules: String?

    func run() throws {
        let subscription: SubscriptionRecord
        do {
            subscription = try SubscriptionRequest(kind: try SubscriptionRequest.kind(kind), target: to,
                                                   events: events.split(separator: ",").map(String.init), secret: secret,
                                                   filter: SubscriptionFilter(factors: factors, categories: categories, universes: universes,
                                                                              alertRules: alertRules)).record()
        } catch let problem as SubscriptionRequest.Problem {
            throw ValidationError("--\(problem.field == "alertRules" ? "alert-rules" : problem.field.replacingOccurrences(of: "filter.", with: "")): \(problem.reason)")
        }
        let (db, actor) = try store.openStore(for: [.researcher, .reviewer], to: "manage subscriptions")
        try db.insertSubscription(subscription, actor: actor.name)
        let events = subscription.events.map(\.rawValue).joined(separator: ", ")
        if store.json {
            var shown = ["id": subscription.id, "kind": subscription.kind.rawValue, "url": subscription.displayTarget]
            if subscription.kind == .webhook { shown["secret"] = subscription.secret }
            try store.printJSON(shown)
            return
        }
        print("subscription \(subscription.id) (\(subscription.kind.rawValue)): \(events) → \(subscription.displayTarget) · \(subscription.filter.summary)")
        if subscription.kind == .webhook { print("signing secret (shown once): \(subscription.secret)") }
        if subscription.kind == .email, (try? SMTPSettings.fromEnvironment()) == nil {
            print("note: FACTOR_SMTP_HOST is not set here; the process that delivers (serve, worker) needs it")
        }
    }
}

/// `factorlab subscriptions`: the live subscriptions, without their secrets.
struct SubscriptionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "subscriptions", abstract: "Subscriptions (secrets are never shown again; chat bot URLs without their tokens).")
    @OptionGroup var store: StoreOptions

    func run() throws {
        let list = try store.openStore().subscriptions()
        if store.json {
            try store.printJSON(list.map { ["id": $0.id, "kind": $0.kind.rawValue, "url": $0.displayTarget,
                                           "events": $0.events.map(\.rawValue).joined(separator: ","), "filter": $0.filter.summary,
                                           "active": $0.active ? "true" : "false", "createdAt": $0.createdAt] })
            return
        }
        print(Terminal.table(["id", "kind", "to", "events", "filter", "state", "created"], list.map {
            [$0.id, $0.kind.rawValue, $0.displayTarget, $0.events.map(\.rawValue).joined(separator: ","), $0.filter.summary,
             $0.active ? "active" : "paused", $0.createdAt]
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
        let (db, actor) = try store.openStore(for: [.researcher, .reviewer], to: "manage subscriptions", entity: id)
        guard try db.removeSubscription(id: id, actor: actor.name) else {
            throw CLIError("no subscription with id \(id) (see `factorlab subscriptions`)")
        }
        if store.json { try store.printJSON(["unsubscribed": id]); return }
        print("unsubscribed \(id)")
    }
}

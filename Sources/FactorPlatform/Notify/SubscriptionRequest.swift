import FactorStore
import Foundation

/// A subscription as the CLI, the API and the console ask for it, checked the same way everywhere.
public struct SubscriptionRequest: Sendable {
    public var kind: SubscriptionKind
    /// A URL, or email addresses separated by commas.
    public var target: String
    public var events: [String]
    public var secret: String?
    public var filter: SubscriptionFilter

    public init(kind: SubscriptionKind = .webhook, target: String, events: [String], secret: String? = nil,
                filter: SubscriptionFilter = SubscriptionFilter()) {
        self.kind = kind
        self.target = target
        self.events = events
        self.secret = secret
        self.filter = filter
    }

    public typealias Problem = FieldProblem

    /// The kind named by `text` (the CLI's `--kind`, the API's `kind`).
    public static func kind(_ text: String) throws -> SubscriptionKind {
        guard let kind = SubscriptionKind(rawValue: text.lowercased()) else {
            throw Problem(field: "kind", reason: "unknown kind '\(text)'; kinds: \(SubscriptionKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return kind
    }

    /// The record to store (a webhook without a secret gets a new random one, returned in `secret`).
    public func record(now: String = Clock.now()) throws -> SubscriptionRecord {
        var list: [WebhookEvent] = []
        for name in events.map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let event = WebhookEvent(rawValue: name) else {
                throw Problem(field: "events", reason: "unknown event '\(name)'; events: \(WebhookEvent.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !list.contains(event) { list.append(event) }
        }
        guard !list.isEmpty else { throw Problem(field: "events", reason: "name at least one event") }
        var target = self.target.trimmingCharacters(in: .whitespaces)
        if kind == .email {
            do {
                target = try EmailAddress.list(target).joined(separator: ",")
            } catch {
                throw Problem(field: "to", reason: String(describing: error))
            }
        } else {
            guard let url = URL(string: target), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else {
                throw Problem(field: "to", reason: "a \(kind.rawValue) subscription needs an http(s) URL, got '\(target)'")
            }
        }
        var key = secret ?? ""
        switch kind {
        case .webhook:
            if secret == nil { key = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }
            guard key.count >= 16 else { throw Problem(field: "secret", reason: "a webhook secret needs at least 16 characters") }
        case .dingtalk, .feishu:
            break  // optional: the bot's signing secret, when its security setting asks for one
        case .email, .wecom, .slack:
            guard key.isEmpty else {
                throw Problem(field: "secret", reason: "\(kind.rawValue) subscriptions take no secret (\(kind == .email ? "the SMTP password comes from FACTOR_SMTP_PASSWORD" : "the URL is the secret"))")
            }
        }
        for (field, values) in [("factors", filter.factors), ("categories", filter.categories), ("universes", filter.universes),
                                ("alertRules", filter.alertRules)] {
            for v in values where v.isEmpty || v.count > 128 || v.contains(",") {
                throw Problem(field: "filter.\(field)", reason: "'\(v)' is not a name")
            }
        }
        return SubscriptionRecord(id: UUID().uuidString.lowercased(), url: target, events: list, secret: key, createdAt: now, kind: kind, filter: filter)
    }
}

extension SubscriptionFilter {
    /// Comma-separated lists, as the CLI takes them (nil or empty: no restriction).
    public init(factors: String?, categories: String?, universes: String?, alertRules: String?) {
        func list(_ s: String?) -> [String] { (s ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        self.init(factors: list(factors), categories: list(categories), universes: list(universes), alertRules: list(alertRules))
    }
}

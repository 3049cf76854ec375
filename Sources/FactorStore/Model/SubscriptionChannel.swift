/// Where a subscription's events go: a signed JSON webhook, an email, or a chat bot's incoming webhook.
public enum SubscriptionKind: String, Codable, Sendable, CaseIterable {
    /// `target` is an http(s) URL; `secret` signs each body (HMAC-SHA256).
    case webhook
    /// `target` is one or more addresses separated by commas; the SMTP server comes from `FACTOR_SMTP_*`.
    case email
    /// DingTalk robot URL (`…/robot/send?access_token=…`); `secret` (the robot's `SEC…`) signs the URL.
    case dingtalk
    /// Feishu/Lark bot URL (`…/open-apis/bot/v2/hook/…`); `secret`, when the bot has one, signs the body.
    case feishu
    /// WeCom group robot URL (`…/cgi-bin/webhook/send?key=…`).
    case wecom
    /// Slack incoming webhook URL (`https://hooks.slack.com/services/…`).
    case slack

    /// Kinds whose target is an http(s) URL.
    public var postsToURL: Bool { self != .email }

    /// Whether the kind signs with a secret of the user's choosing (webhook: always, generated when not given).
    public var usesSecret: Bool { self == .webhook || self == .dingtalk || self == .feishu }
}

/// Which events of its kinds a subscription hears about. A dimension left empty lets everything through; a dimension
/// applies only to events that carry it (an alert kind filter does not hold back `job.succeeded`; a universe filter
/// does not hold back `factor.approved`).
public struct SubscriptionFilter: Codable, Sendable, Equatable {
    /// Factor codes: the event must concern at least one of them.
    public var factors: [String]
    /// Factor categories: the event must concern a factor of one of them.
    public var categories: [String]
    /// Universes: the event must concern one of them.
    public var universes: [String]
    /// Alert rules (`ic_drop`, `coverage` …): an `alert.raised` event must come from one of them.
    public var alertRules: [String]

    public init(factors: [String] = [], categories: [String] = [], universes: [String] = [], alertRules: [String] = []) {
        self.factors = factors
        self.categories = categories
        self.universes = universes
        self.alertRules = alertRules
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        factors = try c.decodeIfPresent([String].self, forKey: .factors) ?? []
        categories = try c.decodeIfPresent([String].self, forKey: .categories) ?? []
        universes = try c.decodeIfPresent([String].self, forKey: .universes) ?? []
        alertRules = try c.decodeIfPresent([String].self, forKey: .alertRules) ?? []
    }

    public var isEmpty: Bool { factors.isEmpty && categories.isEmpty && universes.isEmpty && alertRules.isEmpty }

    /// Whether an event about `scope` passes.
    public func admits(_ scope: EventScope) -> Bool {
        func passes(_ wanted: [String], _ carried: [String]?) -> Bool {
            guard !wanted.isEmpty, let carried else { return true }
            return !Set(wanted).isDisjoint(with: carried)
        }
        return passes(factors, scope.factors) && passes(categories, scope.categories) && passes(universes, scope.universes)
            && passes(alertRules, scope.alertRule.map { [$0] })
    }

    /// One line for listings: "factors MOM5,VOL20 · universes csi300", or "everything".
    public var summary: String {
        NamedLists.summary([("factors", factors), ("categories", categories), ("universes", universes), ("alerts", alertRules)], none: "everything")
    }
}

/// What an event concerns, for filters. nil: the event does not carry that dimension.
public struct EventScope: Sendable, Equatable {
    public var factors: [String]?
    public var categories: [String]?
    public var universes: [String]?
    public var alertRule: String?

    public init(factors: [String]? = nil, categories: [String]? = nil, universes: [String]? = nil, alertRule: String? = nil) {
        self.factors = factors
        self.categories = categories
        self.universes = universes
        self.alertRule = alertRule
    }
}

/// What the audit log keeps of a new subscription: never its secret, and an IM target without its token.
enum SubscriptionAudit {
    struct Entry: Encodable {
        var kind: String
        var url: String
        var events: [WebhookEvent]
        var filter: SubscriptionFilter
    }

    static func text(_ s: SubscriptionRecord) -> String {
        JSON.encode(Entry(kind: s.kind.rawValue, url: s.displayTarget, events: s.events, filter: s.filter))
    }
}

/// "factors MOM5,VOL20 · universes csi300" for listings of filters and scopes.
enum NamedLists {
    static func summary(_ lists: [(String, [String])], none: String) -> String {
        let parts = lists.filter { !$0.1.isEmpty }.map { "\($0.0) \($0.1.joined(separator: ","))" }
        return parts.isEmpty ? none : parts.joined(separator: " · ")
    }
}

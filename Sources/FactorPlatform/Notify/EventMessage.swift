import FactorStore
import Foundation

/// An event as people read it: a title, a Markdown card, plain text and HTML, built from the JSON body every channel
/// is given (`{"id", "event", "at", "data"}`). Jobs list their Top-N; alerts their rule, subject and figures.
public struct EventMessage: Sendable, Equatable {
    public var eventId: String
    public var event: String
    public var title: String
    /// The card's lines (Markdown with `**bold**`), one item per line; `markdown(for:)` adapts them to a dialect.
    public var lines: [String]
    /// Green, red, orange or blue: the card's colour where the service has one.
    public var tone: Tone
    /// The Top-N of a job event (empty otherwise), for the email's HTML table.
    public var top: [JobEventPayload.TopResult]
    /// Name → value rows for the HTML body (job or alert details).
    public var details: [(String, String)]

    public enum Tone: String, Sendable { case good, bad, warning, info }

    public static func == (a: EventMessage, b: EventMessage) -> Bool {
        a.eventId == b.eventId && a.title == b.title && a.lines == b.lines && a.top == b.top
            && a.details.map { $0.0 + "=" + $0.1 } == b.details.map { $0.0 + "=" + $0.1 }
    }

    /// Markdown flavours: Slack's mrkdwn writes bold with single asterisks; DingTalk, Feishu and WeCom use `**`.
    public enum Dialect: Sendable { case standard, slack }

    public func markdown(for dialect: Dialect = .standard) -> String {
        let text = lines.joined(separator: "\n")
        guard dialect == .slack else { return text }
        // Slack reads <…> as links and mentions (<!channel>): its three control characters are escaped.
        return text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "**", with: "*")
    }

    public var plainText: String {
        ([title, ""] + lines.map { $0.replacingOccurrences(of: "**", with: "") }).joined(separator: "\n") + "\n"
    }

    public var html: String {
        var h = "<!doctype html><html><body style=\"font-family:sans-serif\"><h2>\(Self.escape(title))</h2>"
        if !details.isEmpty {
            h += "<table>" + details.map { "<tr><th align=\"left\">\(Self.escape($0.0))</th><td>\(Self.escape($0.1))</td></tr>" }.joined() + "</table>"
        }
        if !top.isEmpty {
            h += "<h3>Top \(top.count) by Rank ICIR</h3><table border=\"1\" cellspacing=\"0\" cellpadding=\"4\"><tr>"
                + ["#", "factor", "version", "universe", "frequency", "horizon", "n", "IC", "Rank IC", "Rank ICIR", "L/S ann. return"]
                    .map { "<th>\($0)</th>" }.joined() + "</tr>"
            for (i, r) in top.enumerated() {
                let cells = [String(i + 1), r.factor, String(r.version), r.universe, r.frequency, String(r.horizon), String(r.n),
                             Self.figure(r.icMean), Self.figure(r.rankICMean), Self.figure(r.rankICIR), Self.figure(r.longShortAnnReturn)]
                h += "<tr>" + cells.map { "<td>\(Self.escape($0))</td>" }.joined() + "</tr>"
            }
            h += "</table>"
        }
        return h + "<p style=\"color:#888\">FactorLab event \(Self.escape(event)) · \(Self.escape(eventId))</p></body></html>"
    }

    /// Reads a stored delivery body; a body that is not an event's JSON is shown as it is.
    public init(body: String) {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        eventId = object["id"] as? String ?? ""
        event = object["event"] as? String ?? "event"
        let data = (object["data"]).flatMap { try? JSONSerialization.data(withJSONObject: $0) } ?? Data()
        let decoder = JSONDecoder()
        top = []
        details = []
        switch WebhookEvent(rawValue: event) {
        case .jobSucceeded?, .jobFailed?:
            guard let job = try? decoder.decode(JobEventPayload.self, from: data) else {
                (title, tone, lines) = Self.unknown(event, body)
                return
            }
            let ok = event == WebhookEvent.jobSucceeded.rawValue
            title = "FactorLab job \(job.job.id) \(ok ? "succeeded" : "failed")"
            tone = ok ? .good : .bad
            top = job.top
            details = [("job", job.job.id), ("run", job.job.runId), ("status", job.job.status.rawValue),
                       ("results", "\(job.results) (\(job.failedResults) with errors)")]
            if let error = job.job.error { details.append(("error", error)) }
            lines = ["**\(title)**", "run \(job.job.runId) · \(job.results) results, \(job.failedResults) with errors"]
            if let error = job.job.error { lines.append("error: \(error)") }
            if !top.isEmpty {
                lines.append("**Top \(top.count) by Rank ICIR**")
                for (i, r) in top.enumerated() {
                    lines.append("\(i + 1). **\(r.factor)** v\(r.version) \(r.universe) \(r.frequency) h\(r.horizon): Rank ICIR \(Self.figure(r.rankICIR))"
                                 + " · Rank IC \(Self.figure(r.rankICMean)) · IC \(Self.figure(r.icMean)) · n \(r.n)")
                }
            }
        case .alertRaised?:
            guard let alert = try? decoder.decode(AlertRecord.self, from: data) else {
                (title, tone, lines) = Self.unknown(event, body)
                return
            }
            title = "FactorLab alert [\(alert.severity)] \(alert.rule): \(alert.subject)"
            tone = alert.severity == "critical" ? .bad : (alert.severity == "info" ? .info : .warning)
            details = [("rule", alert.rule), ("severity", alert.severity), ("subject", alert.subject), ("message", alert.message)]
            if let job = alert.jobId { details.append(("job", job)) }
            let figures = alert.figures.sorted { $0.key < $1.key }.map { "\($0.key) \(Self.figure($0.value))" }
            if !figures.isEmpty { details.append(("figures", figures.joined(separator: ", "))) }
            lines = ["**\(alert.severity.uppercased()) \(alert.rule)**: \(alert.subject)", alert.message]
            if !figures.isEmpty { lines.append("figures: " + figures.joined(separator: " · ")) }
            if let job = alert.jobId { lines.append("job \(job)") }
        case .factorApproved?:
            let code = (object["data"] as? [String: Any])?["code"] as? String ?? "?"
            let version = (object["data"] as? [String: Any])?["version"] as? Int ?? 0
            let by = (object["data"] as? [String: Any])?["by"] as? String ?? "?"
            title = "FactorLab factor \(code) v\(version) approved"
            tone = .good
            details = [("factor", code), ("version", String(version)), ("approved by", by)]
            lines = ["**\(title)**", "approved by \(by)"]
        case nil:
            (title, tone, lines) = Self.unknown(event, body)
        }
    }

    /// A body this version cannot read (an unknown event, or data in another shape): shown as it is.
    static func unknown(_ event: String, _ body: String) -> (String, Tone, [String]) {
        ("FactorLab \(event)", .info, ["FactorLab \(event)", body])
    }

    static func figure(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "–" }
        if x == x.rounded() && abs(x) < 1e9 { return String(Int(x)) }
        return String(format: "%.4f", x)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

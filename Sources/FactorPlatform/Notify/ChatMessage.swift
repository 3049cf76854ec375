import FactorCore
import FactorStore
import Foundation

/// The request a chat service's incoming webhook expects for one event, in the format each service documents, and
/// how to read its answer (they answer HTTP 200 with an error code in the body when they refuse a message).
///
/// - DingTalk: `{"msgtype":"markdown","markdown":{"title","text"}}`; with a signing secret the URL gains `timestamp`
///   (milliseconds) and `sign` = URL-encoded Base64 HMAC-SHA256 of "timestamp\nsecret" keyed by the secret.
///   Answer `{"errcode":0}`.
/// - Feishu/Lark: an interactive card (`msg_type` "interactive", header and a `lark_md` div); with a signing secret the
///   body gains `timestamp` (seconds) and `sign` = Base64 HMAC-SHA256 of the empty string keyed by "timestamp\nsecret".
///   Answer `{"code":0}` (older bots: `{"StatusCode":0}`).
/// - WeCom: `{"msgtype":"markdown","markdown":{"content"}}` (at most 4,096 bytes). Answer `{"errcode":0}`.
/// - Slack: `{"text", "blocks":[header, section mrkdwn]}` (a section holds at most 3,000 characters). Answer `ok`.
public struct ChatMessage: Sendable {
    public var url: String
    public var body: Data

    public init(kind: SubscriptionKind, url: String, secret: String, message: EventMessage, now: Date = Date()) throws {
        let object: [String: Any]
        var url = url
        switch kind {
        case .dingtalk:
            object = ["msgtype": "markdown", "markdown": ["title": message.title, "text": Self.clip(message.markdown(), bytes: 18_000)]]
            if !secret.isEmpty {
                let timestamp = String(Int64(now.timeIntervalSince1970 * 1000))
                url += (url.contains("?") ? "&" : "?") + "timestamp=\(timestamp)&sign=\(Self.formEncoded(Self.dingTalkSign(secret: secret, timestamp: timestamp)))"
            }
        case .feishu:
            var card: [String: Any] = [
                "msg_type": "interactive",
                "card": [
                    "config": ["wide_screen_mode": true],
                    "header": ["title": ["tag": "plain_text", "content": message.title],
                               "template": ["good": "green", "bad": "red", "warning": "orange", "info": "blue"][message.tone.rawValue] ?? "blue"],
                    "elements": [["tag": "div", "text": ["tag": "lark_md", "content": Self.clip(message.markdown(), bytes: 20_000)]]],
                ] as [String: Any],
            ]
            if !secret.isEmpty {
                let timestamp = String(Int64(now.timeIntervalSince1970))
                card["timestamp"] = timestamp
                card["sign"] = Self.feishuSign(secret: secret, timestamp: timestamp)
            }
            object = card
        case .wecom:
            object = ["msgtype": "markdown", "markdown": ["content": Self.clip(message.markdown(), bytes: 4096)]]
        case .slack:
            object = ["text": message.title,
                      "blocks": [["type": "header", "text": ["type": "plain_text", "text": String(message.title.prefix(150))]],
                                 ["type": "section", "text": ["type": "mrkdwn", "text": Self.clip(message.markdown(for: .slack), characters: 3000)]]]]
        case .webhook, .email:
            throw ChannelError.notChat(kind)
        }
        self.url = url
        body = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// DingTalk's signature of a request made at `timestamp` (milliseconds).
    public static func dingTalkSign(secret: String, timestamp: String) -> String {
        Data(HMACSHA256.mac(key: Array(secret.utf8), message: Array((timestamp + "\n" + secret).utf8))).base64EncodedString()
    }

    /// Feishu's signature of a request made at `timestamp` (seconds).
    public static func feishuSign(secret: String, timestamp: String) -> String {
        Data(HMACSHA256.mac(key: Array((timestamp + "\n" + secret).utf8), message: [])).base64EncodedString()
    }

    /// Why the service refused the message (nil when it accepted it): a non-2xx status, or an error code in the body.
    public static func refusal(kind: SubscriptionKind, status: Int, body: Data) -> String? {
        guard (200..<300).contains(status) else { return "HTTP \(status)" }
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        switch kind {
        case .dingtalk, .wecom, .feishu:
            guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
                return "answer is not JSON: \(text)"
            }
            let code = (object["errcode"] ?? object["code"] ?? object["StatusCode"]) as? Int
            if code == 0 { return nil }
            return "refused: \(text)"
        case .slack:
            return text.trimmingCharacters(in: .whitespacesAndNewlines) == "ok" || text.isEmpty ? nil : "refused: \(text)"
        case .webhook, .email:
            return nil
        }
    }

    /// `application/x-www-form-urlencoded` escaping of a query value (Base64's `+`, `/` and `=` escaped).
    static func formEncoded(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    static func clip(_ s: String, bytes: Int) -> String {
        guard s.utf8.count > bytes else { return s }
        var out = ""
        for ch in s {
            if out.utf8.count + ch.utf8.count > bytes - 4 { break }
            out.append(ch)
        }
        return out + "\n…"
    }

    static func clip(_ s: String, characters: Int) -> String {
        s.count > characters ? String(s.prefix(characters - 2)) + "\n…" : s
    }
}

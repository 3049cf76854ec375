import Foundation

/// An email as FactorLab sends it: multipart/alternative with a plain-text and an HTML part (UTF-8, Base64), the
/// event's id in `Message-ID` and `X-FactorLab-Event-Id` so that a mailbox can spot a redelivered copy.
public struct MailMessage: Sendable, Equatable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var text: String
    public var html: String
    public var event: String
    public var eventId: String

    public init(from: String, to: [String], subject: String, text: String, html: String, event: String, eventId: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.event = event
        self.eventId = eventId
    }

    /// The message for `message` (an event) from `from` to `to`.
    public init(_ message: EventMessage, from: String, to: [String]) {
        self.init(from: from, to: to, subject: message.title, text: message.plainText, html: message.html, event: message.event,
                  eventId: message.eventId)
    }

    /// RFC 5322 text with CRLF line ends, ready for DATA (before dot-stuffing).
    public func rendered(date: Date = Date(), boundary: String = "factorlab-" + UUID().uuidString.lowercased()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let id = eventId.isEmpty ? UUID().uuidString.lowercased() : eventId
        var lines = [
            "From: FactorLab <\(from)>",
            "To: " + to.joined(separator: ", "),
            "Subject: " + Self.encodedWord(subject),
            "Date: " + formatter.string(from: date),
            "Message-ID: <\(id)@factorlab>",
            "MIME-Version: 1.0",
            "X-FactorLab-Event: \(event)",
            "X-FactorLab-Event-Id: \(id)",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
        ]
        for (type, body) in [("text/plain", text), ("text/html", html)] {
            lines += ["--" + boundary, "Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", ""]
            lines += Self.base64Lines(body)
        }
        lines += ["--" + boundary + "--", ""]
        return lines.joined(separator: "\r\n")
    }

    /// A header value in RFC 2047 form when it is not plain ASCII (and never with a line break).
    static func encodedWord(_ s: String) -> String {
        let flat = s.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if flat.unicodeScalars.allSatisfy({ $0.value >= 32 && $0.value < 127 }) && flat.count < 900 { return flat }
        // Encoded words of at most 75 characters (45 bytes of UTF-8, whole characters), one per folded line.
        var words: [String] = []
        var chunk = ""
        for ch in flat {
            if chunk.utf8.count + ch.utf8.count > 45 {
                words.append("=?UTF-8?B?" + Data(chunk.utf8).base64EncodedString() + "?=")
                chunk = ""
            }
            chunk.append(ch)
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + Data(chunk.utf8).base64EncodedString() + "?=") }
        return words.joined(separator: "\r\n ")
    }

    static func base64Lines(_ s: String) -> [String] {
        let encoded = Data(s.utf8).base64EncodedString()
        var lines: [String] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        return lines
    }
}

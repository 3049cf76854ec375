@testable import FactorPlatform
import FactorStore
import Foundation
import Testing

@Suite("How events read in email and chat")
struct NotificationFormatTests {
    static func body(_ event: String, _ data: String) -> String { #"{"id":"e-1","event":"\#(event)","at":"2026-01-01T00:00:00Z","data":\#(data)}"# }

    @Test func aBodyThatDoesNotDecodeIsShownAsItIsNotAsAnotherEvent() {
        let message = EventMessage(body: Self.body("job.succeeded", #"{"unexpected":true}"#))
        #expect(message.title == "FactorLab job.succeeded" && message.tone == .info)
        #expect(message.lines.last?.contains("unexpected") == true)
        #expect(!message.title.contains("approved"))
    }

    @Test func slackTextEscapesItsControlCharacters() throws {
        let alert = AlertRecord(rule: "ic_drop", severity: "warning", subject: "<!channel> & <https://x.test|click>", message: "a < b", jobId: nil,
                                createdAt: "2026-01-01T00:00:00Z")
        let message = EventMessage(body: Self.body("alert.raised", String(decoding: try JSONEncoder().encode(alert), as: UTF8.self)))
        let slack = message.markdown(for: .slack)
        #expect(!slack.contains("<") && !slack.contains(">") && slack.contains("&lt;!channel&gt; &amp; &lt;https://x.test|click&gt;"))
        #expect(message.markdown().contains("<!channel>"), "other services get the text as it is")
    }

    @Test func aLongNonASCIISubjectIsFoldedIntoShortEncodedWords() {
        let subject = String(repeating: "因子评估报告", count: 20)
        let header = MailMessage.encodedWord(subject)
        let words = header.components(separatedBy: "\r\n ")
        #expect(words.count > 1 && words.allSatisfy { $0.count <= 75 && $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") })
        let decoded = words.map { word -> String in
            let payload = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return String(decoding: Data(base64Encoded: String(payload)) ?? Data(), as: UTF8.self)
        }.joined()
        #expect(decoded == subject)
        #expect(MailMessage.encodedWord("plain ASCII") == "plain ASCII")
    }

    @Test func chatTargetsAreListedWithoutTokensOrCredentials() {
        let slack = SubscriptionRecord(id: "s", url: "https://user:pass@hooks.slack.com/services/T0/B0/XYZ", events: [.jobSucceeded], secret: "",
                                       createdAt: "", kind: .slack)
        #expect(slack.displayTarget == "https://hooks.slack.com/…")
    }
}

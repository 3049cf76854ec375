import FactorCore
import FactorPlatform
import FactorServer
import FactorStore
import FactorTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// What a chat service's receiver saw: the path, the query and the body of each request.
final class ChatHits: @unchecked Sendable {
    struct Hit { var path: String; var query: [String: String]; var body: [String: Any] }
    private var hits: [Hit] = []
    private let lock = NSLock()

    func add(_ hit: Hit) { lock.lock(); hits.append(hit); lock.unlock() }
    var all: [Hit] { lock.lock(); defer { lock.unlock() }; return hits }
    func on(_ path: String) -> [Hit] { all.filter { $0.path == path } }
}

@Suite("Email and chat channels to real receivers", .serialized)
struct NotificationChannelTests {
    /// Runs a job of three approved factors through the API and a worker, subscribing `subscriptions` first (JSON
    /// bodies for POST /subscriptions); returns the job's stored Top-N factor codes.
    static func runJob(_ f: ServerFixture, subscriptions: [String]) async throws -> [String] {
        try await f.app().test(.live) { client in
            let t = f.tokens
            for body in subscriptions {
                let (status, answer) = try await client.call(.post, "/subscriptions", body, as: .researcher, tokens: t)
                #expect(status == 201, "\(body) → \(String(describing: answer))")
            }
            for (code, expression) in [("MOM5", "$close/Ref($close,5)-1"), ("REV10", "Ref($close,10)/$close-1"), ("VOLR", "$volume/Mean($volume,20)")] {
                _ = try await client.call(.post, "/factors", "{\"code\":\"\(code)\",\"expression\":\"\(expression)\"}", as: .researcher, tokens: t)
                _ = try await client.call(.post, "/factors/\(code)/submit-review", as: .researcher, tokens: t)
                #expect(try await client.call(.post, "/factors/\(code)/approve", as: .reviewer, tokens: t).status == 200)
            }
            #expect(try await client.call(.post, "/jobs", #"{"factors":["MOM5","REV10","VOLR"],"universes":["core20"],"start":"2021-06-01","end":"2021-12-31","horizons":[1,5]}"#,
                                          as: .researcher, tokens: t).status == 201)
        }
        let store = f.store
        _ = try await blocking { Worker(store: store, options: .init(name: "w", mode: .untilEmpty, pollSeconds: 0.05)).run().count }
        let job = try #require(try f.store.jobs(status: nil).first)
        return try #require(try f.store.jobSummary(id: job.id)).top.prefix(JobEventPayload.topCount).map(\.key.factorCode)
    }

    /// Delivers until every job event is out (the clock moves past backoffs); returns the job deliveries' states.
    static func deliverAll(_ f: ServerFixture, _ deliverer: WebhookDeliverer) async throws {
        var clock = Date().timeIntervalSince1970
        for _ in 0..<8 {
            await deliverer.deliverDue(now: clock)
            if try f.store.deliveries(status: .pending, subscriptionId: nil, limit: 100).isEmpty { return }
            clock += 3600
        }
    }

    /// HMAC-SHA256 in Base64 by OpenSSL's command line (not FactorLab's own HMAC).
    static func opensslHMAC(key: String, message: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf '%s' \"$MSG\" | openssl dgst -sha256 -hmac \"$KEY\" -binary | base64"]
        process.environment = ["KEY": key, "MSG": message, "PATH": "/usr/bin:/bin"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func eachChatServiceGetsItsDocumentedCardWithTheTopNAndValidSignatures() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            Issue.record("openssl is needed to check the signatures independently"); return
        }
        let hits = ChatHits()
        let router = Router()
        for path in ["dingtalk", "feishu", "wecom", "slack"] {
            router.post("/\(path)") { request, _ -> Response in
                let data = Data(buffer: try await request.body.collect(upTo: 1 << 20))
                var query: [String: String] = [:]
                for (k, v) in request.uri.queryParameters { query[String(k)] = String(v) }
                hits.add(.init(path: path, query: query, body: (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]))
                // Each service's own answer; DingTalk refuses a bot whose token says so (as it does a bad signature).
                let answer = switch path {
                case "dingtalk": query["access_token"] == "refuse" ? #"{"errcode":310000,"errmsg":"sign not match"}"# : #"{"errcode":0,"errmsg":"ok"}"#
                case "feishu": #"{"code":0,"msg":"success","data":{}}"#
                case "wecom": #"{"errcode":0,"errmsg":"ok"}"#
                default: "ok"
                }
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: answer)))
            }
        }
        let f = try ServerFixture()
        defer { f.remove() }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { receiver in
            let base = "http://127.0.0.1:\(try #require(receiver.port))"
            let top = try await Self.runJob(f, subscriptions: [
                #"{"kind":"dingtalk","url":"\#(base)/dingtalk?access_token=tok","events":["job.succeeded"],"secret":"SECding-secret-0001"}"#,
                #"{"kind":"dingtalk","url":"\#(base)/dingtalk?access_token=refuse","events":["job.succeeded"]}"#,
                #"{"kind":"feishu","url":"\#(base)/feishu","events":["job.succeeded"],"secret":"feishu-secret"}"#,
                #"{"kind":"wecom","url":"\#(base)/wecom?key=k","events":["job.succeeded"]}"#,
                #"{"kind":"slack","url":"\#(base)/slack","events":["job.succeeded"],"filter":{"factors":["MOM5"]}}"#,
                #"{"kind":"slack","url":"\#(base)/slack","events":["job.succeeded"],"filter":{"universes":["csi500"]}}"#,
            ])
            #expect(top.count == 6)  // three factors × two horizons
            try await Self.deliverAll(f, WebhookDeliverer(store: f.store, maxAttempts: 2, baseBackoff: 1, timeout: 5))
            let firstLine = "1. **\(top[0])**"

            // DingTalk: markdown message; the URL signed with the timestamp in ms.
            let ding = hits.on("dingtalk").filter { $0.query["access_token"] == "tok" }
            #expect(ding.count == 1)
            if let hit = ding.first {
                #expect(hit.body["msgtype"] as? String == "markdown")
                let markdown = hit.body["markdown"] as? [String: Any] ?? [:]
                #expect((markdown["title"] as? String)?.hasPrefix("FactorLab job ") == true)
                let text = markdown["text"] as? String ?? ""
                #expect(text.contains(firstLine) && text.contains("Top 6 by Rank ICIR"), "\(text)")
                let timestamp = try #require(hit.query["timestamp"])
                #expect(timestamp.count == 13 && abs((Double(timestamp) ?? 0) / 1000 - Date().timeIntervalSince1970) < 600)
                #expect(hit.query["sign"] == (try Self.opensslHMAC(key: "SECding-secret-0001", message: timestamp + "\n" + "SECding-secret-0001")))
            }
            // The bot that refused: the delivery is not delivered, and the error is the service's.
            let refused = try f.store.deliveries(status: nil, subscriptionId: nil, limit: 100).filter { $0.status != .delivered }
            #expect(refused.count == 1 && refused.first?.lastError?.contains("sign not match") == true, "\(refused)")

            // Feishu: an interactive card with a lark_md div; timestamp (s) and sign in the body.
            let feishu = try #require(hits.on("feishu").first)
            #expect(feishu.body["msg_type"] as? String == "interactive")
            let card = feishu.body["card"] as? [String: Any] ?? [:]
            let header = card["header"] as? [String: Any] ?? [:]
            #expect((header["title"] as? [String: Any])?["tag"] as? String == "plain_text" && header["template"] as? String == "green")
            let element = (card["elements"] as? [[String: Any]])?.first?["text"] as? [String: Any] ?? [:]
            #expect(element["tag"] as? String == "lark_md" && (element["content"] as? String)?.contains(firstLine) == true)
            let feishuTime = try #require(feishu.body["timestamp"] as? String)
            #expect(feishuTime.count == 10)
            #expect(feishu.body["sign"] as? String == (try Self.opensslHMAC(key: feishuTime + "\n" + "feishu-secret", message: "")))

            // WeCom: markdown content within 4,096 bytes.
            let wecom = try #require(hits.on("wecom").first)
            #expect(wecom.body["msgtype"] as? String == "markdown" && wecom.query["key"] == "k")
            let content = (wecom.body["markdown"] as? [String: Any])?["content"] as? String ?? ""
            #expect(content.contains(firstLine) && content.utf8.count <= 4096)

            // Slack: fallback text and blocks (header, mrkdwn section with single-asterisk bold); the csi500 filter
            // kept the second Slack subscription quiet.
            let slack = hits.on("slack")
            #expect(slack.count == 1)
            let blocks = slack.first?.body["blocks"] as? [[String: Any]] ?? []
            #expect(blocks.map { $0["type"] as? String } == ["header", "section"])
            let section = blocks.last?["text"] as? [String: Any] ?? [:]
            #expect(section["type"] as? String == "mrkdwn")
            let mrkdwn = section["text"] as? String ?? ""
            #expect(mrkdwn.contains("1. *\(top[0])*") && !mrkdwn.contains("**"), "\(mrkdwn)")
            #expect((slack.first?.body["text"] as? String)?.hasPrefix("FactorLab job ") == true)
        }
    }

    /// aiosmtpd (Debian's python3-aiosmtpd, or FACTORLAB_TEST_SMTP_PYTHON's) writing what it receives to a Maildir.
    final class SMTPServer: @unchecked Sendable {
        let process = Process()
        let port: Int
        let maildir: String

        /// aiosmtpd's Controller requiring AUTH (LOGIN/PLAIN without TLS, on loopback) from quant / s3cret.
        static let authenticatingServer = """
            import sys, time
            from aiosmtpd.controller import Controller
            from aiosmtpd.handlers import Mailbox
            from aiosmtpd.smtp import AuthResult, LoginPassword
            def check(server, session, envelope, mechanism, data):
                ok = isinstance(data, LoginPassword) and data.login == b"quant" and data.password == b"s3cret"
                return AuthResult(success=ok, handled=False)
            Controller(Mailbox(sys.argv[2]), hostname="127.0.0.1", port=int(sys.argv[1]), authenticator=check,
                       auth_required=True, auth_require_tls=False).start()
            while True:
                time.sleep(3600)
            """

        init?(directory: String, tls: (cert: String, key: String)? = nil, requireAuth: Bool = false) throws {
            let python = ProcessInfo.processInfo.environment["FACTORLAB_TEST_SMTP_PYTHON"] ?? "/usr/bin/python3"
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: python)
            probe.arguments = ["-c", "import aiosmtpd"]
            probe.standardError = FileHandle.nullDevice
            guard FileManager.default.isExecutableFile(atPath: python), (try? probe.run()) != nil else { return nil }
            probe.waitUntilExit()
            guard probe.terminationStatus == 0 else { return nil }
            port = try PlatformProcesses.freeLoopbackPort()
            maildir = directory + "/maildir-\(port)"
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = requireAuth ? ["-c", Self.authenticatingServer, String(port), maildir]
                : ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)"] + (tls.map { ["--tlscert", $0.cert, "--tlskey", $0.key] } ?? [])
                    + ["-c", "aiosmtpd.handlers.Mailbox", maildir]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func waitUntilListening() async throws {
            for _ in 0..<100 where !(await HTTPSenderProbe.accepts(port: port)) { try await Task.sleep(for: .milliseconds(50)) }
        }

        /// The received messages parsed by Python's email package: subject, to, message id, text and html parts.
        func messages() throws -> [[String: String]] {
            let script = """
                import email, email.policy, json, mailbox, sys
                out = []
                for m in mailbox.Maildir(sys.argv[1], create=False):
                    msg = email.message_from_bytes(m.as_bytes(), policy=email.policy.default)
                    out.append({"subject": str(msg["subject"]), "to": str(msg["to"]), "id": str(msg["X-FactorLab-Event-Id"]),
                                "text": msg.get_body(("plain",)).get_content(), "html": msg.get_body(("html",)).get_content()})
                print(json.dumps(out))
                """
            let p = Process()
            p.executableURL = process.executableURL
            p.arguments = ["-c", script, maildir]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (try JSONSerialization.jsonObject(with: data) as? [[String: String]]) ?? []
        }

        /// SIGKILL: the test process blocks SIGTERM in its threads, and a child started from one inherits the mask.
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    @Test func theJobFinishedEmailArrivesWithTheTopNInTextAndHTML() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        guard let smtp = try SMTPServer(directory: f.directory) else {
            print("skipped: no Python with aiosmtpd (apt-get install python3-aiosmtpd, or set FACTORLAB_TEST_SMTP_PYTHON)")
            return
        }
        defer { smtp.stop() }
        try await smtp.waitUntilListening()
        let top = try await Self.runJob(f, subscriptions: [
            #"{"kind":"email","url":"quant@example.org, lead@example.org","events":["job.succeeded","job.failed"]}"#,
            #"{"kind":"email","url":"other@example.org","events":["job.succeeded"],"filter":{"categories":["value"]}}"#,
        ])
        let settings = SMTPSettings(host: "127.0.0.1", port: smtp.port, from: "factorlab@example.org", startTLS: .auto)
        try await Self.deliverAll(f, WebhookDeliverer(store: f.store, maxAttempts: 3, timeout: 10, smtp: { settings }))
        let messages = try smtp.messages()
        #expect(messages.count == 1, "the category filter keeps the second address out")
        let mail = try #require(messages.first)
        #expect(mail["to"] == "quant@example.org, lead@example.org")
        #expect(mail["subject"]?.hasPrefix("FactorLab job ") == true && mail["subject"]?.hasSuffix(" succeeded") == true)
        let delivery = try #require(try f.store.deliveries(status: .delivered, subscriptionId: nil, limit: 10).first)
        #expect(mail["id"] == WebhookBody.eventId(of: delivery.payload))
        // The text lists the Top-N in order; the HTML has one table row per entry.
        let text = mail["text"] ?? ""
        let order = top.enumerated().compactMap { i, code in text.range(of: "\(i + 1). \(code) ")?.lowerBound }
        #expect(order.count == top.count && order == order.sorted(), "\(text)")
        let html = mail["html"] ?? ""
        #expect(html.components(separatedBy: "<tr><td>").count - 1 == top.count)
        #expect(html.contains("<td>1</td><td>\(top[0])</td>"))
    }

    @Test func STARTTLSIsUsedWhenTheServerRequiresIt() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        let cert = f.directory + "/smtp-cert.pem", key = f.directory + "/smtp-key.pem"
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        guard (try? openssl.run()) != nil else { print("skipped: no openssl to make a certificate"); return }
        openssl.waitUntilExit()
        guard let smtp = try SMTPServer(directory: f.directory, tls: (cert, key)) else {
            print("skipped: no Python with aiosmtpd"); return
        }
        defer { smtp.stop() }
        try await smtp.waitUntilListening()
        let mail = MailMessage(from: "factorlab@example.org", to: ["quant@example.org"], subject: "Résumé ✓", text: "hello", html: "<p>hello</p>",
                               event: "job.succeeded", eventId: "e-1")
        // Without TLS the server (which requires it) refuses, and the error carries its words.
        await #expect(throws: ChannelError.self) {
            try await SMTPMailer.send(mail, settings: SMTPSettings(host: "127.0.0.1", port: smtp.port, from: "factorlab@example.org", startTLS: .none), timeout: 10)
        }
        // Trusting the test certificate, STARTTLS goes through and the message arrives intact.
        try await SMTPMailer.send(mail, settings: SMTPSettings(host: "127.0.0.1", port: smtp.port, from: "factorlab@example.org", startTLS: .required,
                                                             caFile: cert), timeout: 10)
        let received = try smtp.messages()
        #expect(received.count == 1 && received.first?["subject"] == "Résumé ✓" && received.first?["text"] == "hello")
        // Trusting only the system's roots, the self-signed certificate is refused.
        await #expect(throws: (any Error).self) {
            try await SMTPMailer.send(mail, settings: SMTPSettings(host: "127.0.0.1", port: smtp.port, from: "factorlab@example.org", startTLS: .required), timeout: 10)
        }
    }

    @Test func AUTHPLAINLogsInAndAWrongPasswordIsRefusedWithTheServersWords() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        guard let smtp = try SMTPServer(directory: f.directory, requireAuth: true) else { print("skipped: no Python with aiosmtpd"); return }
        defer { smtp.stop() }
        try await smtp.waitUntilListening()
        let mail = MailMessage(from: "factorlab@example.org", to: ["quant@example.org"], subject: "auth", text: "hello", html: "<p>hello</p>",
                               event: "job.succeeded", eventId: "e-auth")
        func settings(_ user: String?, _ password: String?) -> SMTPSettings {
            SMTPSettings(host: "127.0.0.1", port: smtp.port, from: "factorlab@example.org", user: user, password: password, startTLS: .none)
        }
        do {
            try await SMTPMailer.send(mail, settings: settings(nil, nil), timeout: 10)
            Issue.record("a server that requires AUTH took mail without it")
        } catch let error as ChannelError {
            #expect(String(describing: error).contains("530"), "\(error)")
        }
        do {
            try await SMTPMailer.send(mail, settings: settings("quant", "wrong"), timeout: 10)
            Issue.record("a wrong password was accepted")
        } catch let error as ChannelError {
            #expect(String(describing: error).contains("AUTH PLAIN") && String(describing: error).contains("535")
                    && !String(describing: error).contains("wrong"), "\(error)")
        }
        try await SMTPMailer.send(mail, settings: settings("quant", "s3cret"), timeout: 10)
        #expect(try smtp.messages().map { $0["subject"] } == ["auth"])
    }
}

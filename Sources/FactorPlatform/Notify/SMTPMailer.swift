import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Sends one email over SMTP (RFC 5321) on SwiftNIO: EHLO, STARTTLS when offered or required (NIOSSL, the system's
/// roots or `FACTOR_SMTP_CA_FILE`), AUTH PLAIN when a user is set, MAIL/RCPT/DATA, QUIT. The whole conversation has
/// one deadline; any reply outside the expected class fails the send with the command and the server's words.
public enum SMTPMailer {
    public static func send(_ mail: MailMessage, settings: SMTPSettings, timeout: Double = 30) async throws {
        let reader = SMTPReplyReader()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(min(timeout, 10) * 1000)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(reader) }
            }
            .connect(host: settings.host, port: settings.port).get()
        let deadline = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
            reader.timedOut = true
            channel.close(promise: nil)
        }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        func read(_ command: String, expect: Int) async throws -> SMTPReply {
            let reply: SMTPReply
            do {
                reply = try await channel.eventLoop.flatSubmit { reader.next(on: channel.eventLoop) }.get()
            } catch {
                let timedOut = (try? await channel.eventLoop.submit { reader.timedOut }.get()) ?? false
                throw timedOut ? ChannelError.smtp(command: command, reply: String(format: "no answer within %g s", timeout)) : error
            }
            guard reply.code / 100 == expect else { throw ChannelError.smtp(command: command, reply: reply.text) }
            return reply
        }
        func command(_ line: String, expect: Int, shown: String? = nil) async throws -> SMTPReply {
            try await channel.writeAndFlush(ByteBuffer(string: line + "\r\n")).get()
            return try await read(shown ?? line, expect: expect)
        }
        _ = try await read("greeting", expect: 2)
        let name = "factorlab.localhost"
        var ehlo = try await command("EHLO \(name)", expect: 2)
        var secure = false
        let offersTLS = ehlo.lines.contains { $0.dropFirst(4).uppercased().hasPrefix("STARTTLS") }
        if settings.startTLS == .required && !offersTLS { throw ChannelError.startTLSUnavailable(host: settings.host) }
        if settings.startTLS != .none && offersTLS {
            _ = try await command("STARTTLS", expect: 2)
            // Anything that arrived before the handshake was not protected: refuse it rather than take it as a reply
            // to a command sent over TLS.
            if try await channel.eventLoop.submit({ reader.takeBuffered() }).get() {
                throw ChannelError.smtp(command: "STARTTLS", reply: "the server sent data before the TLS handshake")
            }
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let ca = settings.caFile { configuration.trustRoots = .file(ca) }
            let context = try NIOSSLContext(configuration: configuration)
            let hostname = Self.isIPAddress(settings.host) ? nil : settings.host
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: hostname), position: .first)
            }.get()
            secure = true
            ehlo = try await command("EHLO \(name)", expect: 2)
        }
        if let user = settings.user {
            // A password crosses the network only encrypted, or on this host.
            guard secure || ["127.0.0.1", "::1", "localhost"].contains(settings.host) else {
                throw ChannelError.smtp(command: "AUTH", reply: "refusing to send the password without TLS (set FACTOR_SMTP_STARTTLS=required)")
            }
            let token = Data(([0] + Array(user.utf8) + [0] + Array((settings.password ?? "").utf8))).base64EncodedString()
            _ = try await command("AUTH PLAIN \(token)", expect: 2, shown: "AUTH PLAIN")
        }
        _ = ehlo
        _ = try await command("MAIL FROM:<\(mail.from)>", expect: 2)
        for recipient in mail.to { _ = try await command("RCPT TO:<\(recipient)>", expect: 2) }
        _ = try await command("DATA", expect: 3)
        try await channel.writeAndFlush(ByteBuffer(string: Self.dotStuffed(mail.rendered()) + ".\r\n")).get()
        _ = try await read("DATA (message)", expect: 2)
        _ = try? await command("QUIT", expect: 2)
    }

    /// DATA's transparency rule: a line starting with "." gets one more.
    static func dotStuffed(_ text: String) -> String {
        text.components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n")
    }

    static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
    }
}

/// One SMTP reply: its code and its lines (a multi-line reply has "250-" on all but the last).
struct SMTPReply: Sendable {
    var code: Int
    var lines: [String]
    var text: String { lines.joined(separator: " / ") }
}

/// Splits the server's bytes into replies and hands them out in order; lives on the channel's event loop.
final class SMTPReplyReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var pending: [UInt8] = []
    private var lines: [String] = []
    private var replies: [SMTPReply] = []
    private var waiters: [EventLoopPromise<SMTPReply>] = []
    private var failure: (any Error)?
    var timedOut = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        while let end = pending.firstIndex(of: 10) {
            var line = Array(pending[..<end])
            pending.removeSubrange(...end)
            if line.last == 13 { line.removeLast() }
            let text = String(decoding: line, as: UTF8.self)
            lines.append(text)
            let bytes = Array(text.utf8)
            if bytes.count < 4 || bytes[3] != UInt8(ascii: "-") {
                let reply = SMTPReply(code: Int(String(text.prefix(3))) ?? 0, lines: lines)
                lines = []
                if waiters.isEmpty { replies.append(reply) } else { waiters.removeFirst().succeed(reply) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ChannelError.smtp(command: "connection", reply: "the server closed the connection"))
        context.fireChannelInactive()
    }

    private func fail(_ error: any Error) {
        if failure == nil { failure = error }
        let waiting = waiters
        waiters = []
        for w in waiting { w.fail(error) }
    }

    /// Whether replies or bytes were waiting, which are then dropped (must be called on the event loop).
    func takeBuffered() -> Bool {
        let had = !replies.isEmpty || !pending.isEmpty || !lines.isEmpty
        replies = []
        pending = []
        lines = []
        return had
    }

    /// The next reply (must be called on the event loop).
    func next(on eventLoop: any EventLoop) -> EventLoopFuture<SMTPReply> {
        if !replies.isEmpty { return eventLoop.makeSucceededFuture(replies.removeFirst()) }
        if let failure { return eventLoop.makeFailedFuture(failure) }
        let promise = eventLoop.makePromise(of: SMTPReply.self)
        waiters.append(promise)
        return promise.futureResult
    }
}

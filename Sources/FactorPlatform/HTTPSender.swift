import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// An HTTP answer: the status code and the body.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var body: Data
}

/// HTTP requests from FactorLab (webhooks, remote workers, the API benchmark), through AsyncHTTPClient on SwiftNIO with
/// TLS by NIOSSL. Foundation's URLSession would pull libcurl and some twenty libraries into every process, which costs
/// each command about 5 ms before its first line runs.
public enum HTTPSender {
    /// The process's client: a connection refused fails the request at once (AsyncHTTPClient's own shared client would
    /// keep retrying the connection until the request's deadline); redirects are not followed (a webhook receiver's
    /// answer is its status).
    public static let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)

    /// The settings of `client`.
    public static var configuration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        configuration.redirectConfiguration = .disallow
        return configuration
    }

    /// Sends `method` to `url` and waits at most `timeout` seconds for the whole answer (a body over
    /// `maxResponseBytes` is an error). Errors describe the cause (connection refused, timeout, TLS, a bad URL).
    public static func send(_ url: String, method: HTTPMethod = .POST, headers: [(String, String)] = [], body: Data? = nil,
                            timeout: Double, maxResponseBytes: Int = 16 << 20,
                            client: HTTPClient = HTTPSender.client) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .milliseconds(Int64(max(0.001, timeout) * 1000)))
        let bytes = try await response.body.collect(upTo: maxResponseBytes)
        return HTTPAnswer(status: Int(response.status.code), body: Data(bytes.readableBytesView))
    }

    /// A short account of why a request failed, for logs and stored delivery errors ("Connection refused",
    /// "no answer within 10 s").
    public static func describe(_ error: any Error, timeout: Double? = nil) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if let client = error as? HTTPClientError {
            if client == .connectTimeout { return "could not connect within 10 s" }
            if [.deadlineExceeded, .readTimeout].contains(client) {
                return timeout.map { String(format: "no answer within %g s", $0) } ?? "timed out"
            }
            if client == .remoteConnectionClosed { return "the server closed the connection" }
            return String(describing: client)
        }
        return String(describing: error)
    }

    /// `send` for a caller on a plain thread: blocks until the answer or `timeout`, then nil (the request is cancelled).
    public static func sendWaiting(_ url: String, method: HTTPMethod = .POST, headers: [(String, String)] = [], body: Data? = nil,
                                   timeout: Double) -> Result<HTTPAnswer, any Error>? {
        let box = AnswerBox()
        let task = Task {
            do { box.set(.success(try await send(url, method: method, headers: headers, body: body, timeout: timeout))) } catch { box.set(.failure(error)) }
        }
        guard box.wait(timeout: timeout + 1) else {
            task.cancel()
            return nil
        }
        return box.result
    }
}

/// The answer handed from the request's task to the waiting thread.
private final class AnswerBox: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var stored: Result<HTTPAnswer, any Error>?

    func set(_ result: Result<HTTPAnswer, any Error>) {
        lock.lock(); stored = result; lock.unlock()
        done.signal()
    }

    func wait(timeout: Double) -> Bool { done.wait(timeout: .now() + timeout) == .success }

    var result: Result<HTTPAnswer, any Error>? {
        lock.lock(); defer { lock.unlock() }
        return stored
    }
}

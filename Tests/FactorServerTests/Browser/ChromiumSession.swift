import Foundation
import Testing

/// A headless Chromium driven over the DevTools protocol through `--remote-debugging-pipe` (NUL-separated JSON on
/// file descriptors 3 and 4), so a test can type, press keys, click, wait for the page and take screenshots without a
/// WebSocket client. Every call blocks: use it from `blocking { }`, never on the cooperative pool.
final class ChromiumSession: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let executable: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    private let process = Process()
    private let toBrowser: FileHandle
    private let fromBrowser: FileHandle
    private let profile: String
    private let logPath: String
    private let condition = NSCondition()
    private var nextId = 1
    private var responses: [Int: [String: Any]] = [:]
    private var closed = false
    private var pageErrors: [String] = []
    private var sessionId = ""

    init(width: Int = 1280, height: Int = 900) throws {
        guard let chromium = Self.executable else { throw Failure(description: "Debian's chromium is not installed") }
        profile = NSTemporaryDirectory() + "factorlab-chromium-\(UUID().uuidString)"
        logPath = profile + ".log"
        let input = Pipe(), output = Pipe()
        toBrowser = input.fileHandleForWriting
        fromBrowser = output.fileHandleForReading
        // The shell moves our pipes to descriptors 3 and 4, where Chromium expects the protocol.
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \"$0\" \"$@\" 3<&0 4>&1 </dev/null >/dev/null 2>>\"\(logPath)\"", chromium,
                             "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                             "--disable-crash-reporter", "--hide-scrollbars", "--mute-audio", "--user-data-dir=" + profile,
                             "--window-size=\(width),\(height)", "about:blank"]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        try? input.fileHandleForReading.close()
        try? output.fileHandleForWriting.close()
        let reader = Thread { [unowned self] in self.readLoop() }
        reader.start()
        let target = try call("Target.createTarget", ["url": "about:blank"], page: false)
        let attached = try call("Target.attachToTarget", ["targetId": target["targetId"] as? String ?? "", "flatten": true], page: false)
        sessionId = attached["sessionId"] as? String ?? ""
        _ = try call("Runtime.enable")
        _ = try call("Page.enable")
        try setViewport(width: width, height: height)
    }

    deinit { close() }

    /// Uncaught exceptions and console errors of the page so far, in order.
    var errors: [String] {
        condition.lock()
        defer { condition.unlock() }
        return pageErrors
    }

    func close() {
        condition.lock()
        let wasClosed = closed
        closed = true
        condition.broadcast()
        condition.unlock()
        if wasClosed { return }
        _ = try? send("Browser.close", [:], page: false)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        try? toBrowser.close()
        try? FileManager.default.removeItem(atPath: profile)
        try? FileManager.default.removeItem(atPath: logPath)
    }

    // MARK: protocol

    private func readLoop() {
        var buffer = Data()
        while true {
            let chunk = fromBrowser.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let end = buffer.firstIndex(of: 0) {
                let message = buffer[buffer.startIndex..<end]
                buffer.removeSubrange(buffer.startIndex...end)
                guard let object = try? JSONSerialization.jsonObject(with: message) as? [String: Any] else { continue }
                condition.lock()
                if let id = object["id"] as? Int {
                    responses[id] = object
                } else if let method = object["method"] as? String, let params = object["params"] as? [String: Any] {
                    if method == "Runtime.exceptionThrown", let details = params["exceptionDetails"] as? [String: Any] {
                        let exception = (details["exception"] as? [String: Any])?["description"] as? String
                        pageErrors.append(exception ?? details["text"] as? String ?? "exception")
                    } else if method == "Runtime.consoleAPICalled", params["type"] as? String == "error" {
                        let args = (params["args"] as? [[String: Any]] ?? []).map { "\($0["value"] ?? $0["description"] ?? "")" }
                        pageErrors.append("console.error: " + args.joined(separator: " "))
                    }
                }
                condition.broadcast()
                condition.unlock()
            }
        }
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func send(_ method: String, _ params: [String: Any], page: Bool) throws -> Int {
        condition.lock()
        let id = nextId
        nextId += 1
        condition.unlock()
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if page { message["sessionId"] = sessionId }
        var data = try JSONSerialization.data(withJSONObject: message)
        data.append(0)
        try toBrowser.write(contentsOf: data)
        return id
    }

    /// Sends one command and waits for its answer; a protocol error or silence past `timeout` throws.
    @discardableResult
    func call(_ method: String, _ params: [String: Any] = [:], page: Bool = true, timeout: TimeInterval = 120) throws -> [String: Any] {
        let id = try send(method, params, page: page)
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while responses[id] == nil {
            if closed { throw Failure(description: "chromium exited during \(method)\(logTail)") }
            if !condition.wait(until: deadline) { throw Failure(description: "chromium did not answer \(method) within \(Int(timeout)) s\(logTail)") }
        }
        let response = responses.removeValue(forKey: id)!
        if let error = response["error"] as? [String: Any] {
            throw Failure(description: "\(method) failed: \(error["message"] ?? error)")
        }
        return response["result"] as? [String: Any] ?? [:]
    }

    private var logTail: String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8), !text.isEmpty else { return "" }
        return "; chromium said: " + text.suffix(600)
    }

    // MARK: page

    func setViewport(width: Int, height: Int = 900) throws {
        try call("Emulation.setDeviceMetricsOverride", ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600])
    }

    /// Evaluates JavaScript in the page (promises awaited) and returns its value.
    @discardableResult
    func evaluate(_ script: String) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": script, "returnByValue": true, "awaitPromise": true])
        if let details = result["exceptionDetails"] as? [String: Any] {
            let exception = (details["exception"] as? [String: Any])?["description"] as? String
            throw Failure(description: "script failed: \(exception ?? details["text"] as? String ?? "?") in \(script.prefix(120))")
        }
        return (result["result"] as? [String: Any])?["value"]
    }

    func navigate(_ url: String) throws {
        try call("Page.navigate", ["url": url])
    }

    /// Polls `condition` (a JavaScript expression) until it is true; returns the seconds waited.
    @discardableResult
    func waitUntil(_ condition: String, _ what: String, timeout: TimeInterval = 120) throws -> Double {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if (try? evaluate("Boolean(\(condition))")) as? Bool == true { return Date().timeIntervalSince(start) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let body = (try? evaluate("document.querySelector('main')?.innerText ?? document.body.innerText")) as? String ?? ""
        throw Failure(description: "waited \(Int(timeout)) s for \(what); the page shows: \(body.prefix(500))")
    }

    func text(_ selector: String) throws -> String {
        (try evaluate("document.querySelector(\(Self.quoted(selector)))?.innerText ?? ''") as? String) ?? ""
    }

    func focus(_ selector: String) throws {
        let found = try evaluate("(() => { const e = document.querySelector(\(Self.quoted(selector))); if (!e) return false; e.focus(); return document.activeElement === e })()")
        guard found as? Bool == true else { throw Failure(description: "no focusable element \(selector)") }
    }

    /// Types text at the focused element, as an input method would (fires `input` events).
    func type(_ text: String) throws {
        try call("Input.insertText", ["text": text])
    }

    /// Replaces the value of a field by selecting all of it and typing `text`.
    func replace(_ selector: String, with text: String) throws {
        try focus(selector)
        try evaluate("document.activeElement.select()")
        try type(text)
    }

    /// A key press through the browser's input pipeline, so default actions (Tab moves focus, Enter submits) happen.
    func press(_ key: String) throws {
        let codes: [String: (Int, String?)] = ["Enter": (13, "\r"), "Tab": (9, nil), "Escape": (27, nil), "ArrowDown": (40, nil), " ": (32, " ")]
        guard let (code, text) = codes[key] else { throw Failure(description: "unknown key \(key)") }
        var down: [String: Any] = ["type": text == nil ? "rawKeyDown" : "keyDown", "key": key, "code": key == " " ? "Space" : key,
                                   "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code]
        if let text { down["text"] = text }
        try call("Input.dispatchKeyEvent", down)
        try call("Input.dispatchKeyEvent", ["type": "keyUp", "key": key, "code": key == " " ? "Space" : key, "windowsVirtualKeyCode": code])
    }

    /// Clicks the centre of the first element matching `selector` with the mouse.
    func click(_ selector: String) throws {
        let box = try evaluate("""
            (() => { const e = document.querySelector(\(Self.quoted(selector))); if (!e) return null; e.scrollIntoView({block: 'center'});
              const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()
            """) as? [Any]
        guard let box, let x = (box[0] as? NSNumber)?.doubleValue, let y = (box[1] as? NSNumber)?.doubleValue else {
            throw Failure(description: "nothing to click at \(selector)")
        }
        for type in ["mousePressed", "mouseReleased"] {
            try call("Input.dispatchMouseEvent", ["type": type, "x": x, "y": y, "button": "left", "clickCount": 1])
        }
    }

    /// Saves a PNG of the whole page.
    func screenshot(to path: String) throws {
        let result = try call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
        guard let base64 = result["data"] as? String, let data = Data(base64Encoded: base64) else { throw Failure(description: "empty screenshot") }
        try data.write(to: URL(fileURLWithPath: path))
    }

    static func quoted(_ text: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [text])
        let array = data.map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
        return String(array.dropFirst().dropLast())
    }
}

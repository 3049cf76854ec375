import FactorPlatform
import FactorServer
import FactorStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The console rendered by a real headless Chromium against a live server (skipped with a note when Debian's
/// `chromium` is not installed; CI installs it). Screenshots land in `.build/console-screenshots/`.
@Suite("Web console in headless Chromium", .serialized)
struct ConsoleBrowserTests {
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let screenshots: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent(".build/console-screenshots").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Runs Chromium on `url`; returns the DOM after scripts ran and saves a screenshot named `name`.
    static func render(_ url: String, name: String, width: Int = 1200) throws -> String {
        /// Chromium's helper processes inherit its output handles, so a pipe would wait for all of them: the
        /// output goes to a file, and a hung browser is killed after 240 s instead of hanging the suite.
        func run(_ extra: [String]) throws -> String {
            let output = NSTemporaryDirectory() + "chromium-out-\(UUID()).html"
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            defer { try? FileManager.default.removeItem(atPath: output) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: chromium!)
            process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                                 "--disable-sync", "--no-first-run", "--disable-crash-reporter", "--hide-scrollbars",
                                 "--user-data-dir=" + NSTemporaryDirectory() + "chromium-\(UUID())",
                                 "--virtual-time-budget=5000", "--window-size=\(width),1000"] + extra + [url]
            process.standardOutput = handle
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Generous: CPU-bound suites running beside this one can hold both cores (and the live server's
            // executor threads) for over a minute; a hung browser still ends the test.
            let deadline = Date().addingTimeInterval(240)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning {
                process.terminate()
                Issue.record("chromium did not finish rendering \(url) within 240 s")
            }
            try handle.close()
            return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        }
        _ = try run(["--screenshot=\(screenshots)/\(name).png"])
        return try run(["--dump-dom"])
    }

    static func renderOffPool(_ url: String, name: String, width: Int = 1200) async throws -> String {
        try await blocking { try render(url, name: name, width: width) }
    }

    @Test(.enabled(if: chromium != nil, "Debian's chromium is not installed (apt-get install chromium); console browser tests skipped"))
    func pagesRenderTheCatalogueFactorsJobsAndValidation() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        let registry = f.services.registry
        try registry.register(FactorDraft(code: "MOM5", expression: "$close/Ref($close, 5) - 1", category: "momentum", tags: ["fast"]), actor: "researcher")
        try registry.register(FactorDraft(code: "VOL10", expression: "Std($close/Ref($close, 1) - 1, 10)", category: "volatility"), actor: "researcher")
        try registry.lifecycle.submitForReview(code: "MOM5", actor: "researcher")
        try await f.app().test(.live) { client in
            let port = try #require(client.port)
            let token = try #require(f.tokens[.reviewer])
            let base = "http://127.0.0.1:\(port)/console#/"
            let catalogue = try await Self.renderOffPool(base + "factors?token=\(token)", name: "factors")
            #expect(catalogue.contains(">MOM5<") && catalogue.contains(">VOL10<") && catalogue.contains("in_review"))
            let detail = try await Self.renderOffPool(base + "factor/MOM5?token=\(token)", name: "factor-detail")
            #expect(detail.contains("Ref($close, 5)") && detail.contains(">Approve<"))
            let phone = try await Self.renderOffPool(base + "factors?token=\(token)", name: "factors-phone", width: 390)
            #expect(phone.contains(">MOM5<"))
            let register = try await Self.renderOffPool(base + "register?token=\(token)", name: "register")
            #expect(register.contains("id=\"expression\""))
            let jobs = try await Self.renderOffPool(base + "jobs?token=\(token)", name: "jobs")
            #expect(jobs.contains("New job"))
            let signin = try await Self.renderOffPool("http://127.0.0.1:\(port)/console#/signin", name: "signin")
            #expect(signin.contains("id=\"token\""))
            // Without a token every page sends the user to sign in.
            let anonymous = try await Self.renderOffPool("http://127.0.0.1:\(port)/console#/factors", name: "anonymous")
            #expect(anonymous.contains("Sign in") && !anonymous.contains(">MOM5<"))
        }
        #expect(FileManager.default.fileExists(atPath: Self.screenshots + "/factors.png"))
    }
}

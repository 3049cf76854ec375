import FactorStore
import FactorTestSupport
import FactorPython
import Foundation
import Testing

/// The console driven in a real headless Chromium against a real `factorlab serve` and `factorlab worker` on the
/// real data (the synthetic market when `../shared` is absent): a researcher signs in with the keyboard, registers a
/// factor with a typo and sees the error at its position, fixes it, submits a job, watches it finish and opens its
/// report; a reviewer approves the factor; two factors are compared. Every page is checked for readable contrast,
/// for script errors and, at phone width, for sideways overflow. Screenshots land in `.build/console-screenshots/`.
@Suite("Web console end to end in headless Chromium", .serialized)
struct ConsoleEndToEndTests {
    static let screenshots: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent(".build/console-screenshots").path
        // Screenshots of earlier runs go first, so a check that one exists speaks of this run.
        try? FileManager.default.removeItem(atPath: dir)
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    @Test(.enabled(if: ChromiumSession.executable != nil, "Debian's chromium is not installed (apt-get install chromium); console browser tests skipped"))
    func aResearcherAndAReviewerWorkThroughTheConsole() async throws {
        // Everything blocks (processes, the browser protocol): run it on a Dispatch thread, off the cooperative pool.
        let timings = try await blocking { try Self.walkThrough() }
        print("console page render times (s): " + timings.map { "\($0.0) \(String(format: "%.3f", $0.1))" }.joined(separator: ", "))
        #expect(FileManager.default.fileExists(atPath: Self.screenshots + "/07-report.png"))
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw Failure(description: message()) }
    }

    // swiftlint:disable:next function_body_length
    static func walkThrough() throws -> [(String, Double)] {
        let platform = try PlatformProcesses()
        defer { platform.stop() }
        let researcher = platform.tokens[.researcher]!, reviewer = platform.tokens[.reviewer]!
        let data = platform.data
        // A second factor to compare with, registered through the API.
        let seeded = try platform.request("POST", "/factors", body: #"{"code":"REV5","expression":"Ref($close, 5) / $close - 1","category":"reversal"}"#,
                                          token: researcher)
        try check(seeded.status == 201, "seeding REV5 answered \(seeded.status): \(seeded.json ?? "")\n\(platform.logs)")

        let browser = try ChromiumSession(width: 1280, height: 900)
        defer { browser.close() }
        var timings: [(String, Double)] = []
        func shot(_ name: String) throws {
            try browser.screenshot(to: "\(screenshots)/\(name).png")
            let problems = try browser.evaluate(Self.contrastScript) as? [String] ?? ["the contrast check returned nothing"]
            try check(problems.isEmpty, "text below WCAG AA contrast on \(name): \(problems.prefix(5).joined(separator: "; "))")
            try check(browser.errors.isEmpty, "script errors on \(name): \(browser.errors)")
        }
        func go(_ hash: String, until condition: String, _ what: String, timeout: TimeInterval = 120) throws {
            try browser.evaluate("location.hash = \(ChromiumSession.quoted(hash))")
            timings.append((hash.split(separator: "?").first.map(String.init) ?? hash, try browser.waitUntil(condition, what, timeout: timeout)))
        }
        func page(contains text: String) -> String { "document.querySelector('main').innerText.includes(\(ChromiumSession.quoted(text)))" }

        // 0. A link from the CLI carries the token once: it signs in and leaves the address bar and history.
        try browser.navigate(platform.base + "/console#/factors?token=" + researcher)
        try browser.waitUntil(page(contains: "REV5") + " && !location.href.includes('token=') && history.length === 2",
                              "the catalogue from a token link, with the token gone from the URL")
        try browser.click("#signout")
        try browser.waitUntil("document.querySelector('#token')", "the sign-in form after signing out")

        // 1. Sign in with the keyboard only: Tab to the token field, type, Enter.
        try browser.navigate(platform.base + "/console#/signin")
        try browser.waitUntil("document.querySelector('#token')", "the sign-in form")
        try shot("00-signin")
        var presses = 0
        while try browser.evaluate("document.activeElement && document.activeElement.id") as? String != "token" {
            presses += 1
            try check(presses <= 30, "Tab never reached the token field")
            try browser.press("Tab")
        }
        try browser.type(researcher)
        try browser.press("Enter")
        timings.append(("#/factors", try browser.waitUntil("location.hash === '#/factors' && " + page(contains: "REV5"), "the catalogue after sign-in")))
        try shot("01-catalogue")

        // 1b. Subscribe a webhook receiver that is down: events wait in the outbox and show their failed attempts.
        try go("#/subscriptions", until: "document.querySelector('#surl')", "the webhooks page")
        try browser.focus("#surl")
        try browser.type("http://127.0.0.1:9/factorlab-hook")
        try browser.click("#sub button[type=submit]")
        try browser.waitUntil("document.querySelector('#secret code')", "the new subscription's secret")
        try check(try browser.text("main").contains("http://127.0.0.1:9/factorlab-hook"), "the new subscription is not listed")

        // 2. Register a factor with a typo: the error names the field and marks its position; fix it and register.
        try browser.click("nav a[href='#/register']")
        try browser.waitUntil("document.querySelector('#expression')", "the register form")
        try browser.focus("#code")
        try browser.type("MOM10")
        try browser.focus("#expression")
        try browser.type("$close / Ref($clsoe, 10) - 1")
        try browser.waitUntil("document.querySelector('#check .bad')", "the validation error")
        let error = try browser.text("#check .bad"), marked = try browser.text("#check mark")
        try check(error.contains("clsoe"), "the validation error does not name the unknown field: \(error)")
        try check(marked == "$clsoe", "the highlighted span is '\(marked)', not the unknown field $clsoe")
        try shot("02-register-typo")
        try browser.replace("#expression", with: "$close / Ref($close, 10) - 1")
        try browser.waitUntil("document.querySelector('#check .ok')", "the validation to pass after the fix")
        try check(try browser.text("#check").contains("$close"), "the canonical form is not shown")
        try shot("03-register-valid")
        try browser.click("#reg button[type=submit]")
        try browser.waitUntil("location.hash === '#/factor/MOM10' && " + page(contains: "Submit for review"), "the new factor's page")
        try shot("04-factor-draft")

        // 3. Submit a job for both factors and watch it finish.
        try go("#/newjob", until: "document.querySelector('#jf')", "the job form")
        try browser.replace("#jf", with: "MOM10,REV5")
        try browser.replace("#ju", with: data.universe)
        try browser.replace("#jw", with: data.window)
        try browser.replace("#jh", with: "1,5")
        try browser.replace("#jb", with: "1")
        try browser.click("#jd")
        try browser.waitUntil("document.querySelector('#plan').textContent === '2 tasks will be planned'", "the planned task count")
        try shot("05-new-job")
        try browser.click("#job button[type=submit]")
        try browser.waitUntil("location.hash.startsWith('#/job/')", "the job page")
        try browser.waitUntil("document.querySelector('main .status')", "the job's status")
        try shot("06-job-running")
        try browser.waitUntil("['SUCCESS', 'FAILED', 'CANCELLED'].includes(document.querySelector('main .status')?.textContent)", "the job to end",
                              timeout: 600)
        let status = try browser.text("main .status")
        let jobPage = try browser.text("main")
        try check(status == "SUCCESS", "the job ended \(status): \(jobPage)\n\(platform.logs)")
        try browser.waitUntil("document.querySelector(\"main a[href^='#/report?']\")", "the job's leaderboard")
        try check(try browser.evaluate("document.querySelector('[data-job]') === null") as? Bool == true,
                  "a finished job without failures still offers cancel or retry")
        let jobText = try browser.text("main")
        try check(jobText.contains("MOM10, REV5") && jobText.contains(data.universe) && jobText.contains("horizons 1, 5")
                  && jobText.contains("settings raw"),
                  "the job page does not show what the job asked for: \(jobText.prefix(400))")
        try browser.waitUntil("document.querySelector('#summary-csv')", "the stored summary's download button")
        try check(try browser.evaluate("document.querySelector('main').textContent.includes('summary stored')") as? Bool == true,
                  "the job page does not say when the summary was stored")
        try shot("07-job-done")

        // 4. Open the report: every chart of the HTML report, drawn from the stored result.
        try browser.click("main a[href^='#/report?']")
        timings.append(("#/report", try browser.waitUntil("document.querySelectorAll('figure.chart svg').length >= 7 && document.querySelector('table.heatmap')",
                                                          "the report's charts")))
        let captions = try browser.evaluate("[...document.querySelectorAll('figure.chart figcaption')].map(f => f.textContent)") as? [String] ?? []
        for chart in ["IC series", "Cumulative group returns", "Long-short", "Group means", "IC decay", "Turnover", "Coverage"] {
            try check(captions.contains(chart), "the report has no \(chart) chart (it has \(captions))")
        }
        let drawn = try browser.evaluate("[...document.querySelectorAll('figure.chart svg path')].filter(p => (p.getAttribute('d') || '').length > 40).length") as? Int ?? 0
        try check(drawn >= 8, "only \(drawn) chart lines were drawn")
        let coverage = try browser.evaluate("[...document.querySelectorAll('figure.chart')].find(f => f.querySelector('figcaption').textContent === 'Coverage').querySelector('.legend').textContent") as? String ?? ""
        try check(coverage.contains("members") && coverage.contains("valid factor") && coverage.contains("sample"), "the coverage chart lacks its daily series: \(coverage)")
        try shot("07-report")
        let reportHash = try browser.evaluate("location.hash") as? String ?? ""

        // 5. Submit for review as the researcher; a reviewer signs in and approves.
        try go("#/factor/MOM10", until: "document.querySelector('[data-action=submit-review]')", "the review button")
        try browser.click("[data-action=submit-review]")
        try browser.waitUntil("document.querySelector('main .status')?.textContent === 'in_review'", "the in-review state")
        try check(try browser.evaluate("document.querySelector('[data-action=approve]') === null") as? Bool == true,
                  "a researcher is offered the Approve action")
        let who = try browser.text("#who")
        try check(who == "researcher · researcher", "the header does not show who is signed in: \(who)")
        try browser.click("#signout")
        try browser.waitUntil("document.querySelector('#token')", "the sign-in form after signing out")
        try browser.focus("#token")
        try browser.type(reviewer)
        try browser.click("#signin button[type=submit]")
        try browser.waitUntil("location.hash === '#/factors'", "the catalogue as reviewer")
        // Four eyes: a factor the reviewer registered is not theirs to approve; the page says why.
        for (method, path, body) in [("POST", "/factors", #"{"code":"OWN3","expression":"Mean($close, 3) / $close"}"#), ("POST", "/factors/OWN3/submit-review", "")] {
            let answer = try platform.request(method, path, body: body.isEmpty ? nil : body, token: reviewer)
            try check(answer.status < 300, "\(path) as the reviewer answered \(answer.status): \(answer.json ?? "")")
        }
        try go("#/factor/OWN3", until: "document.querySelector('#four-eyes')", "the four-eyes note")
        try check(try browser.evaluate("document.querySelector('[data-action=approve]') === null") as? Bool == true,
                  "the reviewer is offered to approve their own factor")
        try check(try browser.text("#four-eyes").contains("second reviewer"), "the four-eyes note does not say why")
        // ETags: the approval is of the version on screen; a factor changed meanwhile is refused and the page says so.
        for (method, path, body) in [("POST", "/factors", #"{"code":"ETG","expression":"Mean($close, 11) / $close"}"#), ("POST", "/factors/ETG/submit-review", "")] {
            let answer = try platform.request(method, path, body: body.isEmpty ? nil : body, token: researcher)
            try check(answer.status < 300, "\(path) as the researcher answered \(answer.status): \(answer.json ?? "")")
        }
        try go("#/factor/ETG", until: "document.querySelector('[data-action=approve]')", "the approve button of ETG")
        let changed = try platform.request("PATCH", "/factors/ETG", body: #"{"expression":"Mean($close, 12) / $close"}"#, token: researcher)
        try check(changed.status == 200, "the edit behind the reviewer's back answered \(changed.status)")
        try browser.click("[data-action=approve]")
        try browser.waitUntil("document.querySelector('.flash.error')?.textContent.includes('changed since it was read')", "the stale approval's refusal")
        let etg = try platform.request("GET", "/factors/ETG", token: reviewer)
        try check(((etg.json as? [String: Any])?["factor"] as? [String: Any])?["status"] as? String == "in_review", "a stale approval went through")
        try go("#/factor/MOM10", until: "document.querySelector('[data-action=approve]')", "the approve button")
        try browser.click("[data-action=approve]")
        try browser.waitUntil("document.querySelector('main .status')?.textContent === 'approved'", "the approved state")
        try shot("08-approved")

        // 5b. The approval went to the webhook outbox; the receiver is down, so it waits there. Pause the subscription.
        try go("#/subscriptions", until: page(contains: "factor.approved"), "the factor.approved delivery")
        try browser.click("[data-act=pause]")
        try browser.waitUntil(page(contains: "paused") + " && document.querySelector('[data-act=resume]')", "the paused subscription")
        try shot("08-webhooks")
        // Its retries exhausted (marked so in the store, as the deliverer does after the last one), the delivery is dead;
        // the console puts it back in the outbox.
        let outbox = try SQLiteFactorStore(path: platform.database)
        let approvedDelivery = try #require(try outbox.deliveries(status: nil, subscriptionId: nil, limit: 10).first { $0.event == .factorApproved })
        try outbox.markAttemptFailed(id: approvedDelivery.id, error: "Connection refused", nextAttemptAt: 0, giveUp: true)
        try browser.evaluate("location.hash = '#/'")
        try go("#/subscriptions", until: "document.querySelector('[data-redeliver]')", "the dead delivery's Redeliver button")
        try check(try browser.text("main").contains("dead"), "the subscriptions page does not show the dead delivery")
        try browser.click("[data-redeliver]")
        try browser.waitUntil("document.body.innerText.includes('back in the outbox') && !document.querySelector('[data-redeliver]')", "the redelivered delivery")
        try check(try outbox.deliveries(status: .dead, subscriptionId: nil, limit: 10).isEmpty, "the delivery is still dead after Redeliver")
        try shot("08-redelivered")

        // 6. Compare the two factors on the same evaluation.
        try go("#/compare?a=MOM10&b=REV5", until: "document.querySelectorAll('#comparison tbody tr').length >= 10 && document.querySelector('figure.chart svg')",
               "the comparison")
        let cells = try browser.evaluate("[...document.querySelectorAll('#comparison tbody tr:nth-child(3) td')].map(t => t.textContent)") as? [String] ?? []
        try check(cells.count == 4 && cells[0] == "Rank IC mean" && Double(cells[1]) != nil && Double(cells[2]) != nil && Double(cells[3]) != nil,
                  "the comparison does not show both Rank IC means and their difference: \(cells)")
        try shot("09-compare")
        // Edit the expression in the console (a new version), roll back to v1 (a third version equal to it), and
        // compare two versions of one factor: the second version's expression shows what changed.
        try go("#/factor/MOM10", until: "document.querySelector(\"a[href='#/edit/MOM10']\")", "the edit link")
        try browser.click("a[href='#/edit/MOM10']")
        try browser.waitUntil("document.querySelector('#edit') && document.querySelector('#check .ok')", "the edit form, validated")
        try browser.replace("#expression", with: "$close / Ref($close, 20) - 1")
        try browser.waitUntil("document.querySelector('#check .ok')?.textContent.includes('20')", "the edited expression to validate")
        try browser.focus("#note")
        try browser.type("slower")
        try shot("09-edit")
        try browser.click("#edit button[type=submit]")
        try browser.waitUntil("location.hash === '#/factor/MOM10' && " + page(contains: "slower"), "version 2 on the factor page")
        try browser.click("[data-rollback='1']")
        try browser.waitUntil("document.querySelectorAll('.versions li').length === 3", "the rollback's new version")
        try shot("09-rolled-back")
        try go("#/compare?a=MOM10@1&b=MOM10@2", until: "document.querySelector('.compare ins')", "the version comparison")
        let inserted = try browser.text(".compare ins"), deleted = try browser.text(".compare del")
        try check(inserted == "20" && deleted == "10", "the version diff shows +\(inserted) −\(deleted), not +20 −10")
        try check(try browser.evaluate("document.querySelector('.compare .settings')?.textContent") as? String == "raw",
                  "the comparison does not say how the results were evaluated")
        try shot("09-compare-versions")

        // The remaining pages at laptop width.
        try go("#/leaderboard", until: "document.querySelector('#lby') && " + page(contains: "MOM10") + " && " + page(contains: "REV5"),
               "the leaderboard with both factors")
        // Rank by another figure: the table follows, best first.
        try browser.evaluate("document.querySelector('#lby').value = 'ls_sharpe'")
        try browser.click("#lb button[type=submit]")
        // The old page's select already shows the new value: wait for the re-rendered table (its first row is the best).
        try browser.waitUntil("""
            location.hash.includes('by=ls_sharpe') && (() => { const v = [...document.querySelectorAll('main tbody tr td:last-child')]
              .map(t => Number(t.textContent)); return v.length === 4 && v.every((x, k) => k === 0 || v[k - 1] >= x) })()
            """, "the leaderboard by LS Sharpe, best first")
        let sharpes = (try browser.evaluate("[...document.querySelectorAll('main tbody tr td:last-child')].map(t => Number(t.textContent))") as? [Any] ?? [])
            .compactMap { ($0 as? NSNumber)?.doubleValue }
        try check(sharpes.count == 4 && sharpes == sharpes.sorted(by: >), "the leaderboard by LS Sharpe is not best first: \(sharpes)")
        let settingsColumn = try browser.evaluate("[...document.querySelectorAll('main tbody tr td:nth-child(6)')].map(t => t.textContent)") as? [Any] ?? []
        try check(settingsColumn.count == 4 && settingsColumn.allSatisfy { ($0 as? String) == "raw" },
                  "the leaderboard does not say how each result was evaluated: \(settingsColumn)")
        try shot("09-leaderboard")
        try go("#/alerts", until: "document.querySelectorAll('#rules tbody tr').length === 7", "the alerts page with the seven alert rules")
        try shot("09-alerts")
        try go("#/jobs", until: "document.querySelector(\"main a[href^='#/job/']\")", "the job list")
        try shot("09-jobs")

        // 7. Phone width: no page scrolls sideways; tables scroll inside their cards.
        try browser.setViewport(width: 390, height: 844)
        for (name, hash, ready) in [("factors", "#/factors", page(contains: "MOM10")),
                                    ("factor", "#/factor/MOM10", page(contains: "Versions")),
                                    ("report", reportHash, "document.querySelectorAll('figure.chart svg').length >= 7"),
                                    ("compare", "#/compare?a=MOM10&b=REV5", "document.querySelector('#comparison')"),
                                    ("jobs", "#/jobs", page(contains: "New job"))] {
            try browser.evaluate("location.hash = '#/'")
            try go(hash, until: ready, "the \(name) page at phone width")
            let width = try browser.evaluate("document.documentElement.scrollWidth") as? Int ?? 0
            try check(width <= 390, "the \(name) page is \(width) px wide at a 390 px viewport")
            try shot("10-phone-\(name)")
        }

        // 8. An industry-neutral job through the API, without an industry file: the data's own classification serves,
        // and the report draws IC by industry. The synthetic set has no classification, so only on the real data.
        if data.isReal {
            try browser.setViewport(width: 1280, height: 900)
            let window = data.window.split(separator: ":").map(String.init)
            let body = #"{"factors":["REV5"],"includeDrafts":true,"start":"\#(window[0])","end":"\#(window[1])","universes":["\#(data.universe)"],"horizons":[5],"neutralize":"industry"}"#
            let submitted = try platform.request("POST", "/jobs", body: body, token: researcher)
            let job = ((submitted.json as? [String: Any])?["job"] as? [String: Any])?["id"] as? String ?? ""
            try check(submitted.status == 201 && !job.isEmpty, "the industry-neutral job answered \(submitted.status): \(submitted.json ?? "")")
            try go("#/job/\(job)", until: "['SUCCESS', 'FAILED', 'CANCELLED'].includes(document.querySelector('main .status')?.textContent)",
                   "the industry-neutral job to end", timeout: 600)
            let neutralPage = try browser.text("main")
            try check(try browser.text("main .status") == "SUCCESS", "the industry-neutral job ended: \(neutralPage)\n\(platform.logs)")
            try browser.waitUntil("document.querySelector(\"main a[href^='#/report?']\")", "the industry-neutral job's results")
            try browser.click("main a[href^='#/report?']")
            try browser.waitUntil("document.querySelector('#industry-ic figure.chart svg rect')", "the IC by industry chart")
            let industries = try browser.evaluate("document.querySelectorAll('#industry-ic tbody tr').length") as? Int ?? 0
            try check(industries >= 10, "the report lists IC for \(industries) industries")
            try check(try browser.text("main .settings") == "neutralize industry", "the report does not say the result is industry-neutral")
            try shot("11-industry-ic")
        }

        // 9. A Python factor registered in the console: the template validates on the sample (warm-up and look-ahead),
        // a typo shows the traceback's line, and the factor page shows the source.
        if (try? PythonFactorRunner().versions()) != nil {
            try browser.setViewport(width: 1280, height: 900)
            try go("#/register", until: "document.querySelector('#kind')", "the register form")
            try browser.focus("#code")
            try browser.type("PYMOM20")
            try browser.evaluate("{ const k = document.querySelector('#kind'); k.value = 'python'; k.dispatchEvent(new Event('change')) }")
            try browser.waitUntil("document.querySelector('#check .ok')?.textContent.includes('fields close')", "the template's validation", timeout: 60)
            try browser.evaluate("{ const t = document.querySelector('#source'); t.value = t.value.replace('return earlier / close - 1', 'return earlier / clsoe - 1'); t.dispatchEvent(new Event('input')) }")
            try browser.waitUntil("document.querySelector('#check .bad')", "the Python error", timeout: 60)
            let traceback = try browser.text("#check")
            try check(traceback.contains("NameError") && traceback.contains("PYMOM20.py\", line 11"), "the console does not show the Python error's line: \(traceback)")
            try shot("12-python-error")
            try browser.evaluate("{ const t = document.querySelector('#source'); t.value = t.value.replace('clsoe', 'close'); t.dispatchEvent(new Event('input')) }")
            try browser.waitUntil("document.querySelector('#check .ok')", "the fixed source's validation", timeout: 60)
            try browser.click("#reg button[type=submit]")
            try browser.waitUntil("location.hash === '#/factor/PYMOM20' && " + page(contains: "def factor(data)"), "the Python factor's page", timeout: 60)
            try shot("12-python-factor")
        }
        return timings
    }

    /// WCAG 2 contrast of every visible text element against its painted background (4.5:1, or 3:1 for large text);
    /// returns the failures.
    static let contrastScript = #"""
    (() => {
      const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
        const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
      const lum = (rgb) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * f(rgb[0]) + 0.7152 * f(rgb[1]) + 0.0722 * f(rgb[2]); };
      const background = (e) => { const layers = [];
        for (let n = e; n; n = n.parentElement) { const c = parse(getComputedStyle(n).backgroundColor); if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
        let base = [255, 255, 255]; for (const c of layers.reverse()) base = base.map((v, i) => v * (1 - c[3]) + c[i] * c[3]); return base; };
      const bad = [];
      for (const e of document.querySelectorAll("body *")) {
        if (e.closest("svg") || e.closest("figcaption")) continue;
        const text = [...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
        if (!text) continue;
        const r = e.getBoundingClientRect(), s = getComputedStyle(e);
        if (!r.width || !r.height || s.visibility === "hidden" || +s.opacity === 0) continue;
        const fg = parse(s.color), bg = background(e);
        if (!fg) continue;
        const color = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
        const a = lum(color), b = lum(bg), ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        const size = parseFloat(s.fontSize), large = size >= 24 || (+s.fontWeight >= 700 && size >= 18.66);
        if (ratio < (large ? 3 : 4.5)) bad.push(`${e.tagName.toLowerCase()} "${text.slice(0, 30)}" ${ratio.toFixed(2)}:1`);
      }
      return bad;
    })()
    """#
}

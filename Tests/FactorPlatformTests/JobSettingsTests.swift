import FactorCore
import FactorData
import FactorEval
import FactorExpr
@testable import FactorPlatform
import FactorStore
import Foundation
import Testing

/// Evaluation options travel with a job: its tasks evaluate with them and store figures equal to `evaluate` run with
/// the same options, under their own settings hash.
@Suite("Jobs carry their evaluation options", .serialized)
struct JobSettingsTests {
    @Test func aNeutralizedWinsorizedZScoredJobStoresWhatEvaluateComputes() throws {
        let f = try Fixture()
        defer { f.remove() }
        let codes = try registered(f, count: 3)
        // Three industries over the synthetic instruments.
        let industry = f.directory + "/industry.csv"
        let rows = (1...40).map { String(format: "SYN%03d,IND%d", $0, $0 % 3) }
        try (["symbol,industry_code"] + rows).joined(separator: "\n").write(toFile: industry, atomically: true, encoding: .utf8)
        let options = EvaluationOptions(minNames: 3, decayLags: 4, winsorize: "mad:3", neutralize: "industry", industry: industry, zscore: true)

        var request = jobRequest(codes, universes: ["all"], batch: 2)
        request.windows = [.init(start: "2022-01-01", end: "2022-12-30")]
        request.options = options
        try request.validate()
        let planned = try JobPlanner.plan(request, store: f.store)
        let payloads = try planned.tasks.map { try JSONDecoder().decode(TaskPayload.self, from: Data($0.payload.utf8)) }
        #expect(payloads.allSatisfy { $0.options == options })
        let (job, _) = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
        let outcomes = Worker(store: f.store, options: Worker.Options(name: "w", concurrency: 1, mode: .untilEmpty, leaseSeconds: 30, pollSeconds: 0.05)).run()
        #expect(outcomes.allSatisfy { $0.status == "SUCCESS" })
        let stored = try f.store.results(matching: ResultFilter(runId: job.runId))
        #expect(stored.count == 3 * 2 && stored.allSatisfy { $0.error == nil })

        // The same evaluation run directly, as `factorlab evaluate --winsorize mad:3 --neutralize industry --industry F --zscore` does.
        let settings = try options.settings(horizons: [1, 5], delay: 1, quantiles: 5)
        #expect(settings.preprocessing.summary == "winsorize mad:3 · neutralize industry · zscore" && EvaluationSettings().preprocessing.summary == "raw")
        let source = try DataSources.open(directory: Fixture.dataDirectory, kind: .csv, cacheDirectory: f.directory + "/cache2")
        let expressions = try codes.map { NamedExpression(name: $0, text: try #require(try f.store.versions(code: $0).last).expression) }
        let direct = try EvaluationRun.run(EvaluationRequest(universe: try UniverseSpec(parsing: "all"), start: TimeFormat.parse("2022-01-01"),
                                                             end: TimeFormat.parse("2022-12-30"), factors: .expressions(expressions),
                                                             settings: settings, industryFile: industry), source: source).report
        let expected = ResultRecorder.records(direct, runId: job.runId, identities: Dictionary(uniqueKeysWithValues: codes.map { ($0, .init(code: $0, version: 1)) }))
        #expect(expected.count == stored.count)
        for (want, _) in expected {
            let got = try #require(stored.first { $0.key == want.key })
            let same = got.icMean == want.icMean && got.rankICMean == want.rankICMean && got.rankICIR == want.rankICIR
            #expect(same && got.lsMean == want.lsMean && got.n == want.n)
            // IC by industry is stored with each result (three industries here).
            #expect(got.industryIC == want.industryIC && got.industryIC.count == 3)
        }
        // The raw evaluation differs, and its results would sit under another settings hash.
        let raw = try EvaluationRun.run(EvaluationRequest(universe: try UniverseSpec(parsing: "all"), start: TimeFormat.parse("2022-01-01"),
                                                          end: TimeFormat.parse("2022-12-30"), factors: .expressions(expressions),
                                                          settings: EvaluationSettings(horizons: [1, 5])), source: source).report
        #expect(raw.factors[0].horizons[0].summary.ic.mean != direct.factors[0].horizons[0].summary.ic.mean)
        #expect(ResultRecorder.settingsHash(raw.settings, label: nil) != stored[0].key.settingsHash)

        // A raw job of the same factors: the leaderboard ranks both, and each is named and selected by its settings.
        var rawRequest = request
        rawRequest.options = nil
        let rawPlanned = try JobPlanner.plan(rawRequest, store: f.store)
        _ = try f.store.createJob(rawPlanned.job, tasks: rawPlanned.tasks, actor: "t")
        _ = Worker(store: f.store, options: Worker.Options(name: "w", concurrency: 1, mode: .untilEmpty, leaseSeconds: 30, pollSeconds: 0.05)).run()
        let labels = SettingsLabels.labels(try f.store.runs())
        #expect(Set(labels.values) == ["raw", "winsorize mad:3 · neutralize industry · zscore · min-names 3 · decay-lags 4"])
        let board = try f.store.leaderboard(LeaderboardQuery(top: 100, horizon: 1))
        #expect(board.count == 6 && Set(board.map { labels[$0.key.settingsHash] ?? "?" }).count == 2)
        let rawHashes = SettingsLabels.hashes(matching: "RAW", in: labels)
        let rawBoard = try f.store.leaderboard(LeaderboardQuery(top: 100, horizon: 1, settingsHashes: rawHashes))
        #expect(rawBoard.count == 3 && rawBoard.allSatisfy { $0.key.runId == rawPlanned.job.runId })
    }

    @Test func compareNeutralEvaluatesEveryTaskRawAndIndustryNeutralInOneJob() throws {
        let f = try Fixture()
        defer { f.remove() }
        let codes = try registered(f, count: 2)
        let industry = f.directory + "/industry.csv"
        try (["symbol,industry_code"] + (1...40).map { String(format: "SYN%03d,IND%d", $0, $0 % 4) }).joined(separator: "\n")
            .write(toFile: industry, atomically: true, encoding: .utf8)
        var request = jobRequest(codes, universes: ["all"], batch: 2)
        request.windows = [.init(start: "2022-01-01", end: "2022-12-30")]
        request.options = EvaluationOptions(industry: industry)
        request.compareNeutral = true
        try request.validate()
        let planned = try JobPlanner.plan(request, store: f.store)
        #expect(planned.tasks.count == 2)  // one batch, evaluated raw and neutral
        let (job, _) = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
        _ = Worker(store: f.store, options: Worker.Options(name: "w", concurrency: 1, mode: .untilEmpty, leaseSeconds: 30, pollSeconds: 0.05)).run()
        let results = try f.store.results(matching: ResultFilter(runId: job.runId))
        let labels = SettingsLabels.labels(try f.store.runs())
        #expect(results.count == 2 * 2 * 2 && Set(results.map { labels[$0.key.settingsHash] ?? "?" }) == ["raw", "neutralize industry"])
        // Each side equals its own evaluation.
        let neutral = try #require(results.first { labels[$0.key.settingsHash] == "neutralize industry" && $0.key.factorCode == codes[0] && $0.key.horizon == 1 })
        let raw = try #require(results.first { labels[$0.key.settingsHash] == "raw" && $0.key.factorCode == codes[0] && $0.key.horizon == 1 })
        #expect(neutral.rankICMean != raw.rankICMean)
        // Comparing needs the industry file, and options that are not industry-neutral already.
        request.options = nil
        #expect { try request.validate() } throws: { "\($0)".contains("compare-neutral needs an industry file") }
        request.options = EvaluationOptions(neutralize: "industry", industry: industry)
        #expect { try request.validate() } throws: { "\($0)".contains("must not neutralize by industry already") }
    }

    @Test func industryNeutralizationDefaultsToTheDataClassification() throws {
        let directory = NSTemporaryDirectory() + "factorlab-industry-default-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/meta", withIntermediateDirectories: true)
        try "symbol,industry_code,csrc_section\nSYN001,C39,C\n".write(toFile: directory + "/meta/industry_csrc.csv", atomically: true, encoding: .utf8)
        var request = jobRequest(["X"])
        request.dataDirectory = directory
        request.options = EvaluationOptions(neutralize: "industry")
        #expect(request.withIndustryDefault().options?.industry == directory + "/meta/industry_csrc.csv")
        try request.withIndustryDefault().validate()
        request.options = nil
        request.compareNeutral = true
        #expect(request.withIndustryDefault().options?.industry == directory + "/meta/industry_csrc.csv")
        // An explicit file wins; raw options need none; data without a classification still needs --industry.
        request.options = EvaluationOptions(neutralize: "industry", industry: "/elsewhere/industry.csv")
        #expect(request.withIndustryDefault().options?.industry == "/elsewhere/industry.csv")
        request.compareNeutral = nil
        request.options = EvaluationOptions(winsorize: "mad")
        #expect(request.withIndustryDefault().options?.industry == nil)
        request.options = EvaluationOptions(neutralize: "industry")
        request.dataDirectory = directory + "/meta"
        #expect { try request.withIndustryDefault().validate() } throws: { "\($0)".contains("needs an industry file") }
    }

    @Test func badOptionsAreRefusedAtSubmissionWithTheirName() throws {
        var request = jobRequest(["X"])
        for (options, fragment) in [(EvaluationOptions(winsorize: "median"), "winsorize must be"),
                                    (EvaluationOptions(neutralize: "industry"), "needs an industry file"),
                                    (EvaluationOptions(neutralize: "sector"), "neutralize takes industry, size"),
                                    (EvaluationOptions(industry: "/nonexistent/industry.csv"), "cannot be read"),
                                    (EvaluationOptions(label: "Ref($close, -1)/$close - 1"), "give one horizon"),
                                    (EvaluationOptions(minNames: 1), "min-names")] {
            request.options = options
            #expect { try request.validate() } throws: { "\($0)".contains(fragment) }
        }
        // Defaults are not stored: a job without options keeps the older form.
        #expect(JobRequest(selection: .codes(["X"]), windows: [], dataDirectory: "d", sourceKind: "csv", options: EvaluationOptions()).options == nil)
    }
}

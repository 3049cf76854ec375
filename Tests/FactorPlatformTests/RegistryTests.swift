import FactorCore
import FactorData
import FactorEval
import FactorExpr
@testable import FactorPlatform
import FactorStore
import Foundation
import Testing

/// A registry over a fresh database and the synthetic demo market (generated once per test process).
struct Fixture {
    static let dataDirectory: String = {
        let dir = NSTemporaryDirectory() + "factorlab-platform-tests-data"
        if !FileManager.default.fileExists(atPath: dir + "/calendars/day.txt") { try? SyntheticMarket.write(to: dir) }
        return dir
    }()

    let directory: String
    let store: SQLiteFactorStore
    let registry: FactorRegistry

    init() throws {
        directory = NSTemporaryDirectory() + "factorlab-platform-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteFactorStore(path: directory + "/test.db")
        let source = try DataSources.open(directory: Self.dataDirectory, kind: .csv, cacheDirectory: directory + "/cache")
        registry = FactorRegistry(store: store, validator: try ExpressionValidator(source: source))
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Everything in the database that a refused change must leave alone.
    func snapshot() throws -> String {
        let factors = try store.factors(matching: FactorFilter())
        let versions = try factors.flatMap { try store.versions(code: $0.code) }
        return "\(factors)|\(versions)|\(try store.audit(entity: nil, limit: 10_000).count)"
    }
}

@Suite("Factor registry", .serialized)
struct RegistryTests {
    @Test func registerValidatesAndRecordsWarmupRatios() throws {
        let f = try Fixture()
        defer { f.remove() }
        let (factor, version) = try f.registry.register(FactorDraft(code: "MOM5", expression: "$close/Ref($close, 5) - 1",
                                                                    category: "momentum", tags: ["fast"]), actor: "alice")
        #expect(factor.status == .draft && factor.owner == "alice" && factor.tags == ["fast"])
        #expect(version.canonical == "Sub(Div($close,Ref($close,5)),1)")
        #expect(version.sampleCells > 1000 && version.nanRatio > 0 && version.nanRatio < 0.1 && version.infRatio == 0)
        #expect(try f.store.audit(entity: "MOM5", limit: 10).map(\.action) == ["register"])
    }

    @Test func badInputIsRefusedAndChangesNothing() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.registry.register(FactorDraft(code: "MOM5", expression: "$close/Ref($close, 5) - 1"), actor: "alice")
        let before = try f.snapshot()
        func refused(_ body: () throws -> Void, _ check: (PlatformError) -> Bool) {
            do { try body(); Issue.record("accepted") } catch let e as PlatformError { #expect(check(e), "\(e)") } catch { Issue.record("\(error)") }
        }
        refused({ try f.registry.register(FactorDraft(code: "MOM5", expression: "$open"), actor: "bob") }) {
            if case .store(.duplicateCode("MOM5")) = $0 { return true }; return false
        }
        refused({ try f.registry.register(FactorDraft(code: "X1", expression: "Mean($clsoe, 5)"), actor: "bob") }) {
            if case .invalidExpression(_, let e) = $0 { return e.kind == .unknownField && e.position == 6 }; return false
        }
        refused({ try f.registry.register(FactorDraft(code: "X2", expression: "$close / Ref( $close,5 )-1"), actor: "bob") }) {
            if case .duplicateDefinition(_, let existing) = $0 { return existing.hasPrefix("MOM5") }; return false
        }
        // A factor may not read the future it is scored against (position 12 is the -5).
        refused({ try f.registry.register(FactorDraft(code: "PEEK", expression: "Ref($close, -5)/$close - 1"), actor: "bob") }) {
            if case .invalidExpression(_, let e) = $0 { return e.kind == .lookAhead && e.position == 13 && e.length == 2 }; return false
        }
        refused({ try f.registry.update(code: "MOM5", expression: "Ref($close, -1)/$close - 1", note: "", actor: "alice") }) {
            if case .invalidExpression(_, let e) = $0 { return e.kind == .lookAhead }; return false
        }
        refused({ try f.registry.register(FactorDraft(code: "X3", expression: "$close/0 - $close/0"), actor: "bob") }) {
            if case .emptyOnSample = $0 { return true }; return false
        }
        refused({ try f.registry.register(FactorDraft(code: "9bad code", expression: "$open"), actor: "bob") }) {
            if case .invalidCode = $0 { return true }; return false
        }
        refused({ try f.registry.rollback(code: "MOM5", to: 4, actor: "bob") }) {
            if case .unknownVersion(_, 4, [1]) = $0 { return true }; return false
        }
        refused({ try f.registry.lifecycle.approve(code: "MOM5", actor: "rita") }) {
            if case .store(.invalidTransition(_, .draft, .approved)) = $0 { return true }; return false
        }
        #expect(try f.snapshot() == before)
    }

    @Test func lifecycleAndAuditTrail() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.registry.register(FactorDraft(code: "F", expression: "$close/Ref($close, 5) - 1"), actor: "alice")
        _ = try f.registry.lifecycle.submitForReview(code: "F", actor: "alice")
        _ = try f.registry.lifecycle.approve(code: "F", actor: "rita")
        let updated = try f.registry.update(code: "F", expression: "$close/Ref($close, 10) - 1", note: "longer", actor: "alice")
        #expect(updated.latestVersion == 2 && updated.status == .draft)  // a changed definition needs review again
        _ = try f.registry.lifecycle.deprecate(code: "F", actor: "alice")
        let log = try f.store.audit(entity: "F", limit: 20)
        #expect(log.map(\.action) == ["deprecate", "update", "approve", "submit-review", "register"])
        #expect(log.map(\.actor) == ["alice", "alice", "rita", "alice", "alice"])
        #expect(log[1].before?.contains("Ref($close, 5)") == true && log[1].after?.contains("Ref($close, 10)") == true)
    }

    @Test func aRolledBackFactorEvaluatesWithItsOldExpression() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.registry.register(FactorDraft(code: "F", expression: "$close/Ref($close, 5) - 1"), actor: "alice")
        try f.registry.update(code: "F", expression: "Std($close, 20)/$close", note: "volatility instead", actor: "alice")
        let rolled = try f.registry.rollback(code: "F", to: 1, actor: "alice")
        #expect(rolled.latestVersion == 3)
        let versions = try f.store.versions(code: "F")
        #expect(versions.map(\.expression) == ["$close/Ref($close, 5) - 1", "Std($close, 20)/$close", "$close/Ref($close, 5) - 1"])
        #expect(try f.store.audit(entity: "F", limit: 1)[0].action == "rollback")
        // Evaluate what the registry now resolves F to, and the old expression directly: identical results.
        let source = try DataSources.open(directory: Fixture.dataDirectory, kind: .csv, cacheDirectory: f.directory + "/cache")
        func evaluate(_ text: String) throws -> HorizonSummary {
            let request = EvaluationRequest(universe: .named("core20"), factors: .expressions([NamedExpression(name: "F", text: text)]),
                                            settings: EvaluationSettings(horizons: [1]))
            let run = try EvaluationRun.run(request, source: source)
            return run.report.factors[0].horizons[0].summary
        }
        let resolved = try #require(versions.last).expression
        let viaRegistry = try evaluate(resolved), direct = try evaluate("$close/Ref($close, 5) - 1"), v2 = try evaluate("Std($close, 20)/$close")
        #expect(viaRegistry.rankIC == direct.rankIC)
        #expect(viaRegistry.rankIC != v2.rankIC)
    }

    @Test func seedingIsIdempotentAndRejectsMalformedFilesWhole() throws {
        let f = try Fixture()
        defer { f.remove() }
        let good = f.directory + "/good.json"
        try #"[{"code":"A","name":"a","expression":"$close/Ref($close,5)","category":"momentum"},{"code":"B","name":"b","expression":"$vwap/$close","category":"price"},{"code":"C","name":"c","expression":"Std($close,10)","category":"volatility","tags":["risk"]}]"#
            .write(toFile: good, atomically: true, encoding: .utf8)
        let first = try f.registry.seed(try FactorRegistry.readCatalogue(good), actor: "seed")
        #expect(first.inserted == ["A", "B", "C"])  // the synthetic data has a vwap column
        let again = try f.registry.seed(try FactorRegistry.readCatalogue(good), actor: "seed")
        #expect(again.inserted.isEmpty && again.alreadyPresent == ["A", "B", "C"])
        let before = try f.snapshot()
        let cases: [(String, String)] = [
            ("[{\"code\":\"D\",\"expression\":\"$close\"}, {\"name\":\"no code\",\"expression\":\"$open\"}]", "entry 2"),
            ("[{\"code\":\"D\",\"expression\":\"Mean($close,\"}]", "entry 1 (D)"),
            ("[{\"code\":\"D\",\"expression\":\"$close\"},{\"code\":\"D\",\"expression\":\"$open\"}]", "entry 2 (D)"),
            ("[{\"code\":\"D\",\"expression\":\"Meen($close, 5)\"}]", "entry 1 (D)"),
            ("[{\"code\":\"D\",\"expression\":\"$close\",\"tags\":\"x\"}]", "entry 1 (D)"),
            ("{\"code\":\"D\"}", "not a JSON array"),
        ]
        for (text, expected) in cases {
            let path = f.directory + "/bad.json"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try f.registry.seed(try FactorRegistry.readCatalogue(path), actor: "seed")
                Issue.record("accepted \(text)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        #expect(try f.snapshot() == before)
    }

    @Test func theShippedCatalogueSeedsOnTheDemoData() throws {
        let f = try Fixture()
        defer { f.remove() }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let drafts = try FactorRegistry.readCatalogue(url.appendingPathComponent("configs/factors.json").path)
        #expect(drafts.count >= 190)
        #expect(Set(drafts.map(\.category)).isSuperset(of: ["momentum", "value_like", "volatility", "liquidity", "technical", "beta"]))
        let report = try f.registry.seed(drafts, actor: "seed")
        #expect(report.skipped.isEmpty, "\(report.skipped.prefix(3))")
        #expect(report.inserted.count == drafts.count)
    }
}

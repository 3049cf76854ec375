import FactorData
@testable import FactorPlatform
import FactorStore
import Foundation
import Testing

/// Registration's warm-up loads what a factor reads besides bars: the classification for group operators and the
/// point-in-time reports for `P`/`PRef` (the hand-made fixture in Tests/Fixtures/pit, with a classification added).
@Suite("Registering factors on categorical and point-in-time data")
struct RegistryDataKindsTests {
    @Test func groupAndPointInTimeFactorsPassTheWarmUpAndMissingDataIsNamed() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/pit").path
        let directory = NSTemporaryDirectory() + "factorlab-registry-kinds-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        try FileManager.default.createDirectory(atPath: data + "/meta", withIntermediateDirectories: true)
        for name in ["SH600000_daily.csv", "SZ000001_daily.csv", "financial"] {
            try FileManager.default.copyItem(atPath: fixture + "/" + name, toPath: data + "/" + name)
        }
        try "symbol,industry_code,csrc_section\nSH600000,J66,J\nSZ000001,J66,J\n".write(toFile: data + "/meta/industry.csv", atomically: true, encoding: .utf8)
        let store = try SQLiteFactorStore(path: directory + "/test.db")
        let source = try DataSources.open(directory: data, kind: .csv, cacheDirectory: directory + "/cache")
        let registry = FactorRegistry(store: store, validator: try ExpressionValidator(source: source))

        let (_, group) = try registry.register(FactorDraft(code: "GMOM", expression: "GroupRank($close/Ref($close, 1), $industry)"), actor: "a")
        #expect(group.canonical == "GroupRank(Div($close,Ref($close,1)),$industry)" && group.sampleCells == 22)
        let (_, roe) = try registry.register(FactorDraft(code: "ROE", expression: "P($$roe_q)"), actor: "a")
        #expect(roe.canonical == "P($$roe_q)" && roe.nanRatio == 1.0 / 22)

        let before = try store.factors(matching: FactorFilter()).count
        #expect { try registry.register(FactorDraft(code: "DEBT", expression: "P($$debt_q)"), actor: "a") } throws: {
            "\($0)".contains("no reports of $$debt_q")
        }
        #expect { try registry.register(FactorDraft(code: "MIX", expression: "$$roe_q * $close"), actor: "a") } throws: {
            "\($0)".contains("read it through P($$roe_q)")
        }
        #expect(try store.factors(matching: FactorFilter()).count == before)
    }
}

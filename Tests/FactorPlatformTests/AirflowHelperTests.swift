import FactorTestSupport
import Foundation
import Testing

/// `factorlab airflow …`: absolute paths for the shell that runs Airflow, and the pool line.
@Suite("factorlab airflow helpers")
struct AirflowHelperTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func envPrintsAbsolutePathsTheDAGReads() async throws {
        try await blocking {
            let scratch = NSTemporaryDirectory() + "factorlab-airflow-env-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: scratch + "/data", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let (status, out, err) = try FactorlabExecutable.output(["airflow", "env", "--db", "relative.db", "--data", scratch + "/data"],
                                                                   environment: ["QLIB_DATA_PATH": ""])
            #expect(status == 0, "\(err)")
            let lines = String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
            let here = FileManager.default.currentDirectoryPath
            #expect(lines.contains("export AIRFLOW__CORE__DAGS_FOLDER='\(Self.repository)/airflow/dags'"))
            #expect(lines.contains("export FACTOR_PLATFORM_DB='\(here)/relative.db'"))
            #expect(lines.contains("export FACTOR_DATA_PATH='\(scratch)/data'"))
            let binary = try #require(lines.first { $0.hasPrefix("export FACTORLAB_BIN='/") })
            #expect(FileManager.default.isExecutableFile(atPath: String(binary.dropFirst("export FACTORLAB_BIN='".count).dropLast())))
        }
    }

    @Test func poolPrintsTheAirflowCommand() async throws {
        try await blocking {
            let (status, out, _) = try FactorlabExecutable.output(["airflow", "pool", "--slots", "3"], environment: ["FACTORLAB_POOL": "research"])
            #expect(status == 0)
            #expect(String(decoding: out, as: UTF8.self).hasPrefix("airflow pools set 'research' 3 "))
            #expect(try FactorlabExecutable.output(["airflow", "pool", "--slots", "0"]).status == 64)
        }
    }

    @Test func theDagsFolderHoldsTheDAGFile() async throws {
        try await blocking {
            let (status, out, _) = try FactorlabExecutable.output(["airflow", "dags-folder"])
            #expect(status == 0)
            let folder = String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(FileManager.default.fileExists(atPath: folder + "/starquant_factor_pipeline.py"))
        }
    }
}

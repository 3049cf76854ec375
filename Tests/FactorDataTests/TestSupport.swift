import FactorCore
@testable import FactorData
import Foundation
import Testing

/// The shared data folder (`../shared` beside the package root), used by tests on real data.
enum SharedData {
    /// `<package root>/../shared`, found from this file's path (Tests/FactorDataTests/TestSupport.swift).
    static let root: String = {
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared").path
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }

    /// Whether the data sets these tests read are present; when not, the tests are skipped with a note.
    static let available: Bool = {
        let ok = ["data/cn_csi300_daily", "data/cn_etf_5min", "data/cn_stock_15min"].allSatisfy {
            FileManager.default.fileExists(atPath: path($0))
        }
        if !ok { print("note: \(root)/data is absent; FactorData tests on real data are skipped") }
        return ok
    }()

    static let skipNote: Comment = "needs ../shared/data beside the package (absent: skipped)"

    /// One cache folder for all tests on shared data (reused across runs; writes are atomic), so the 511-file
    /// directory is not parsed again and again.
    static let cacheDirectory = NSTemporaryDirectory() + "factorlab-datatests-cache"

    /// cn_csi300_daily as a CSV source, shared by the tests (parsed once, then held in memory).
    static let csi300: Result<CSVDirectorySource, Error> = Result {
        try CSVDirectorySource(directory: path("data/cn_csi300_daily"), cacheDirectory: cacheDirectory)
    }
}

/// A temporary directory for hand-made fixtures, removed by `remove()`.
struct TempDir {
    let path: String

    init(_ label: String = "fixture") throws {
        path = NSTemporaryDirectory() + "factorlab-test-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `text` to `relative` (creating folders).
    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let file = path + "/" + relative
        let folder = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A date at midnight.
func day(_ text: String) -> Timestamp {
    TimeFormat.parse(text) ?? Timestamp.min
}

/// The error's description when `body` throws, nil otherwise.
func errorText(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}

/// Bitwise equality of two series, NaN equal to NaN.
func sameValues(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
}

extension MarketData {
    /// Value of `field` for `code` on the bar labelled `time`.
    func value(_ field: String, _ code: String, _ time: Timestamp) -> Double? {
        guard let i = instrumentIndex(code), let t = calendar.index(of: time), let panel = fields[field] else {
            return nil
        }
        return panel[i, t]
    }
}

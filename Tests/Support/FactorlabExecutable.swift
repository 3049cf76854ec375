import Foundation

/// The `factorlab` executable that `swift test` built beside the test bundle.
public enum FactorlabExecutable {
    public static var path: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("factorlab").path,
                          root.appendingPathComponent(".build/debug/factorlab").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

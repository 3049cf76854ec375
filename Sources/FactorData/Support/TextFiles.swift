import FactorCore

/// Line-oriented reading of small text files (calendars, instrument lists).
enum TextFiles {
    /// The non-blank lines of a file with their 1-based numbers, trimmed (a UTF-8 BOM is dropped).
    static func lines(_ path: String) throws -> [(number: Int, text: String)] {
        let bytes = try FileSystem.readAll(path)
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var out: [(Int, String)] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = String(raw).trimmedASCII()
            if !line.isEmpty { out.append((number, line)) }
        }
        return out
    }
}

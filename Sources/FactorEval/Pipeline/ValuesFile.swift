import FactorCore
import Foundation

/// Factor values computed elsewhere: a CSV `instrument,datetime,<one column per factor>` (what
/// `factorlab features` writes), laid on the instruments and calendar of the evaluation data.
public enum ValuesFile {
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Reads `path` (plain or `.gz`) into one panel per factor column. Rows of instruments the data does not hold
    /// are counted and skipped (reported in `skipped`); a date off the calendar or a bad number is an error with
    /// its line.
    public static func read(_ path: String, instruments: [String], calendar: MarketCalendar) throws
        -> (names: [String], panels: [Panel], skipped: Int) {
        let text = try Self.text(at: path)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let headerLine = lines.first else { throw ReadError(description: "\(path): the file is empty") }
        let header = headerLine.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard header.count >= 3, header[0].lowercased() == "instrument",
              ["datetime", "date"].contains(header[1].lowercased()) else {
            throw ReadError(description: "\(path):1: the header must be instrument,datetime,<factor columns>; found \(headerLine.prefix(80))")
        }
        let names = Array(header.dropFirst(2))
        var index: [String: Int] = [:]
        for (i, code) in instruments.enumerated() { index[code] = i }
        var dateIndex: [Substring: Int] = [:]
        let n = instruments.count, length = calendar.count
        var values = names.map { _ in [Double](repeating: .nan, count: n * length) }
        var skipped = 0
        for (lineIndex, line) in lines.enumerated().dropFirst() {
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            if trimmed.isEmpty { continue }
            let cells = trimmed.split(separator: ",", omittingEmptySubsequences: false)
            let lineNumber = lineIndex + 1
            guard cells.count == header.count else {
                throw ReadError(description: "\(path):\(lineNumber): \(cells.count) cells, the header has \(header.count)")
            }
            guard let i = index[String(cells[0]).uppercased()] else { skipped += 1; continue }
            let t: Int
            if let known = dateIndex[cells[1]] {
                t = known
            } else {
                guard let time = TimeFormat.parse(Array(cells[1].utf8)), let row = calendar.index(of: time) else {
                    throw ReadError(description: "\(path):\(lineNumber): '\(cells[1])' is not a date of the data's calendar")
                }
                dateIndex[cells[1]] = row
                t = row
            }
            for k in 0..<names.count {
                let cell = cells[k + 2]
                if cell.isEmpty || cell == "nan" || cell == "NaN" { continue }
                if cell == "inf" { values[k][i * length + t] = .infinity; continue }
                if cell == "-inf" { values[k][i * length + t] = -.infinity; continue }
                guard let v = Double(cell) else {
                    throw ReadError(description: "\(path):\(lineNumber): '\(cell)' in column \(names[k]) is not a number")
                }
                values[k][i * length + t] = v
            }
        }
        return (names, values.map { Panel(instrumentCount: n, length: length, values: $0) }, skipped)
    }

    /// The text of a plain or gzip-compressed (`.gz`, decompressed by the system's gzip) file.
    public static func text(at path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw ReadError(description: "\(path): no such file") }
        if path.hasSuffix(".gz") {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "exec gzip -dc \"$0\"", path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ReadError(description: "\(path): gzip could not decompress it") }
            return String(decoding: data, as: UTF8.self)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(description: "\(path): cannot read it") }
        return String(decoding: data, as: UTF8.self)
    }
}

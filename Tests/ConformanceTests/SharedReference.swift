import FactorCore
import FactorEval
import Foundation
import Testing

/// Locates `../shared` beside the package and reads the reference files in it.
enum SharedReference {
    /// `<package>/../shared`, found from this file's path.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // ConformanceTests, Tests, package root
        return url.deletingLastPathComponent().appendingPathComponent("shared").path
    }()

    static var available: Bool {
        let ok = FileManager.default.fileExists(atPath: root + "/reference/alpha158.tsv")
        if !ok { print("note: \(root) is absent; reference-data tests are skipped (CI provides ../shared)") }
        return ok
    }

    static func path(_ relative: String) -> String { root + "/" + relative }

    /// Text of a plain or gzip-compressed file.
    static func text(_ relative: String) throws -> String { try ValuesFile.text(at: path(relative)) }
}

/// A reference table `instrument,datetime,<columns…>` parsed as Float (Qlib's float32 values, bit for bit).
struct ReferenceTable {
    var columns: [String]
    /// (instrument, date text) per row.
    var keys: [(String, String)]
    /// values[row][column] widened to Double; NaN for empty cells.
    var values: [[Double]]

    init(csv text: String) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        columns = Array(header.dropFirst(2))
        keys = []
        values = []
        keys.reserveCapacity(lines.count)
        values.reserveCapacity(lines.count)
        for line in lines {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            keys.append((String(cells[0]), String(cells[1])))
            values.append(cells.dropFirst(2).map { cell in
                if cell.isEmpty { return .nan }
                if cell == "inf" { return .infinity }
                if cell == "-inf" { return -.infinity }
                return Float(cell).map(Double.init) ?? .nan
            })
        }
    }
}

/// Counts cells outside `|a − b| ≤ atol + rtol·|b|` and NaN-position differences for one column.
struct ColumnComparison: CustomStringConvertible {
    var column: String
    var compared = 0
    var failures = 0
    var nanMismatches = 0
    var worst: (key: String, actual: Double, expected: Double)?
    var worstExcess = 0.0

    mutating func add(actual a: Double, expected b: Double, rtol: Double, atol: Double, key: @autoclosure () -> String) {
        compared += 1
        if a.isNaN || b.isNaN {
            if a.isNaN != b.isNaN {
                nanMismatches += 1
                if worst == nil || worstExcess < .infinity { worst = (key(), a, b); worstExcess = .infinity }
            }
            return
        }
        if a.isInfinite || b.isInfinite {
            if a != b { failures += 1; worst = (key(), a, b); worstExcess = .infinity }
            return
        }
        let excess = abs(a - b) - (atol + rtol * abs(b))
        if excess > 0 {
            failures += 1
            if excess > worstExcess || worst == nil { worst = (key(), a, b); worstExcess = excess }
        }
    }

    var description: String {
        var s = "\(column): \(failures) cells outside tolerance, \(nanMismatches) NaN-position differences of \(compared)"
        if let worst { s += "; worst at \(worst.key): FactorLab \(worst.actual), Qlib \(worst.expected)" }
        return s
    }
}

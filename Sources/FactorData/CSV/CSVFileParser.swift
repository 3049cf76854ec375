import Foundation
import FactorCore

/// One instrument CSV file parsed into times and numeric columns (file order, one row per data line).
struct ParsedCSVFile: Sendable {
    /// The file, as named in error messages.
    var path: String
    /// Row times, strictly increasing.
    var times: [Timestamp]
    /// The 1-based file line of each row.
    var lines: [Int32]
    /// Lower-case names of the numeric columns kept as fields, in file order.
    var fieldNames: [String]
    /// `values[k * rowCapacity + r]` is field k of row r.
    var values: [Double]
    /// Column stride of `values`.
    var rowCapacity: Int

    var rowCount: Int { times.count }

    /// Field k of row r.
    @inline(__always)
    func value(field k: Int, row r: Int) -> Double { values[k * rowCapacity + r] }
}

/// A byte-level parser for one instrument CSV file.
///
/// The header names the columns; the time column is `datetime`, `date`, `trade_date`, `time` or `timestamp`
/// (case-insensitive; a separate `time` column next to `date`/`trade_date` is added as the time of day).
/// Every other column is a numeric field named in lower case, except known text columns (`symbol`, `code`,
/// `name`, …) that hold a non-numeric cell, which are dropped. Empty cells are NaN; `nan`, `inf`, `-inf` are
/// read as such. Handles a UTF-8 BOM, CRLF line ends, a missing final newline, blank lines and quoted cells.
/// Any malformed line is a `CSVError` naming the file and line.
enum CSVFileParser {
    /// Header names (lower case) that may hold text; such a column is dropped when a cell is not a number.
    static let textColumnNames: Set<String> = [
        "symbol", "code", "name", "ts_code", "instrument", "ticker", "stock_code", "stock_name", "sec_name",
        "sec_code", "exchange", "market", "industry", "secid", "security", "asset", "id",
    ]
    /// Time column names, most specific first.
    static let timeColumnNames = ["datetime", "date", "trade_date", "time", "timestamp", "trade_time"]

    private enum ColumnKind: UInt8 {
        case ignored, time, timeOfDay, number, numberOrText
    }

    static func parse(path: String) throws -> ParsedCSVFile {
        let bytes = try FileSystem.readAll(path)
        return try parse(bytes: bytes, path: path)
    }

    static func parse(bytes: [UInt8], path: String) throws -> ParsedCSVFile {
        try bytes.withUnsafeBufferPointer { buffer throws -> ParsedCSVFile in
            guard let base = buffer.baseAddress, buffer.count > 0 else { throw CSVError.emptyFile(path: path) }
            return try parse(base, buffer.count, path: path)
        }
    }

    // MARK: - Cells

    /// Scans one cell starting at `p`; on return `p` is at the delimiter (`,`, CR, LF) or the end.
    /// Returns the cell's content bounds with surrounding blanks and quotes removed.
    @inline(__always)
    private static func scanCell(_ b: UnsafePointer<UInt8>, _ n: Int, _ p: inout Int, _ line: inout Int,
                                 path: String) throws -> (Int, Int) {
        var s = p
        while s < n && (b[s] == 32 || b[s] == 9) { s += 1 }
        if s < n && b[s] == 34 {  // quoted
            let startLine = line
            var q = s + 1
            while true {
                guard q < n else { throw CSVError.malformedQuote(path: path, line: startLine) }
                let c = b[q]
                if c == 34 {
                    if q + 1 < n && b[q + 1] == 34 { q += 2; continue }
                    break
                }
                if c == 10 { line += 1 }
                q += 1
            }
            var after = q + 1
            while after < n && (b[after] == 32 || b[after] == 9) { after += 1 }
            if after < n && b[after] != 44 && b[after] != 10 && b[after] != 13 {
                throw CSVError.malformedQuote(path: path, line: line)
            }
            p = after
            var lo = s + 1, hi = q
            while lo < hi && (b[lo] == 32 || b[lo] == 9) { lo += 1 }
            while hi > lo && (b[hi - 1] == 32 || b[hi - 1] == 9) { hi -= 1 }
            return (lo, hi)
        }
        var e = s
        while e < n {
            let c = b[e]
            if c == 44 || c == 10 || c == 13 { break }
            e += 1
        }
        p = e
        while e > s && (b[e - 1] == 32 || b[e - 1] == 9) { e -= 1 }
        return (s, e)
    }

    /// Moves past one line end at `p` (CR, LF or CRLF).
    @inline(__always)
    private static func skipLineEnd(_ b: UnsafePointer<UInt8>, _ n: Int, _ p: inout Int) {
        if p < n && b[p] == 13 { p += 1 }
        if p < n && b[p] == 10 { p += 1 }
    }

    private static func text(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: b + s, count: e - s), as: UTF8.self)
    }

    // MARK: - File

    private static func parse(_ b: UnsafePointer<UInt8>, _ n: Int, path: String) throws -> ParsedCSVFile {
        var p = 0
        if n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { p = 3 }
        var line = 1
        // Skip blank lines before the header.
        while p < n && (b[p] == 10 || b[p] == 13) {
            skipLineEnd(b, n, &p)
            line += 1
        }
        guard p < n else { throw CSVError.emptyFile(path: path) }

        // Header.
        var header: [String] = []
        while true {
            let (s, e) = try scanCell(b, n, &p, &line, path: path)
            header.append(text(b, s, e).replacingDoubledQuotes().lowercased())
            if p < n && b[p] == 44 { p += 1; continue }
            skipLineEnd(b, n, &p)
            line += 1
            break
        }
        let columnCount = header.count

        // Column roles.
        var seen = Set<String>()
        for name in header where !name.isEmpty {
            if !seen.insert(name).inserted { throw CSVError.duplicateColumn(path: path, column: name) }
        }
        guard let timeName = timeColumnNames.first(where: { header.contains($0) }),
              let timeColumn = header.firstIndex(of: timeName) else {
            throw CSVError.missingTimeColumn(path: path, header: header)
        }
        var kinds = [ColumnKind](repeating: .ignored, count: columnCount)
        var slots = [Int](repeating: -1, count: columnCount)
        var fieldNames: [String] = []
        for (c, name) in header.enumerated() {
            if c == timeColumn {
                kinds[c] = .time
            } else if name == "time" && (timeName == "date" || timeName == "trade_date") {
                kinds[c] = .timeOfDay
            } else if name.isEmpty {
                kinds[c] = .ignored  // an unnamed column, e.g. a pandas index
            } else {
                kinds[c] = textColumnNames.contains(name) ? .numberOrText : .number
                slots[c] = fieldNames.count
                fieldNames.append(name)
            }
        }
        var droppedText = [Bool](repeating: false, count: fieldNames.count)

        // Capacity: every row but the last ends with LF, CRLF or a lone CR, so rows ≤ line ends + 1.
        var feeds = 0, returns = 0
        for i in p..<n {
            let c = b[i]
            feeds &+= c == 10 ? 1 : 0
            returns &+= c == 13 ? 1 : 0
        }
        var lineEnds = feeds
        if returns > 0 {  // count the CRs not followed by LF
            for i in p..<n where b[i] == 13 && (i + 1 == n || b[i + 1] != 10) { lineEnds += 1 }
        }
        let capacity = lineEnds + 1
        let fieldCount = fieldNames.count
        var values = [Double](repeating: .nan, count: max(1, fieldCount * capacity))
        var times: [Timestamp] = []
        times.reserveCapacity(capacity)
        var lines: [Int32] = []
        lines.reserveCapacity(capacity)

        try values.withUnsafeMutableBufferPointer { valuesBuffer in
            guard let out = valuesBuffer.baseAddress else { return }
            var row = 0
            var previous: Timestamp = .min
            while p < n {
                let c0 = b[p]
                if c0 == 10 { p += 1; line += 1; continue }  // blank line
                if c0 == 13 {
                    p += 1
                    if p < n && b[p] == 10 { p += 1 }
                    line += 1
                    continue
                }
                let rowLine = line
                guard row < capacity else {  // unreachable by the count above; never write past the buffer
                    throw CSVError.raggedRow(path: path, line: rowLine, expected: columnCount, found: 0)
                }
                var column = 0
                var time: Timestamp = 0
                var timeOfDay = 0
                var hasTime = false
                while true {
                    let (s, e) = try scanCell(b, n, &p, &line, path: path)
                    if column < columnCount {
                        switch kinds[column] {
                        case .number, .numberOrText:
                            let k = slots[column]
                            var v = Double.nan
                            if e > s {
                                if let parsed = DecimalParser.parse(b + s, e - s) {
                                    v = parsed
                                } else if kinds[column] == .numberOrText {
                                    droppedText[k] = true
                                } else {
                                    throw CSVError.badNumber(path: path, line: rowLine, column: header[column],
                                                             text: text(b, s, e))
                                }
                            }
                            out[k * capacity + row] = v
                        case .time:
                            guard e > s, let t = TimeCellParser.parse(b + s, e - s) else {
                                throw CSVError.badDate(path: path, line: rowLine, column: header[column],
                                                       text: text(b, s, e))
                            }
                            time = t
                            hasTime = true
                        case .timeOfDay:
                            guard e > s, let t = TimeCellParser.parseTimeOfDay(b + s, e - s) else {
                                throw CSVError.badDate(path: path, line: rowLine, column: header[column],
                                                       text: text(b, s, e))
                            }
                            timeOfDay = t
                        case .ignored:
                            break
                        }
                    }
                    column += 1
                    if p < n && b[p] == 44 { p += 1; continue }
                    skipLineEnd(b, n, &p)
                    line += 1
                    break
                }
                guard column == columnCount else {
                    throw CSVError.raggedRow(path: path, line: rowLine, expected: columnCount, found: column)
                }
                guard hasTime else {
                    throw CSVError.badDate(path: path, line: rowLine, column: timeName, text: "")
                }
                time += Timestamp(timeOfDay)
                if row > 0 && time <= previous {
                    if time == previous {
                        throw CSVError.duplicateDate(path: path, line: rowLine, date: TimeCellParser.label(time),
                                                     firstLine: Int(lines[row - 1]))
                    }
                    throw CSVError.unsortedDate(path: path, line: rowLine, date: TimeCellParser.label(time),
                                                previous: TimeCellParser.label(previous))
                }
                previous = time
                times.append(time)
                lines.append(Int32(truncatingIfNeeded: rowLine))
                row += 1
            }
        }

        // Drop text columns.
        if droppedText.contains(true) {
            var keptNames: [String] = []
            var kept: [Double] = []
            kept.reserveCapacity(values.count)
            for k in 0..<fieldCount where !droppedText[k] {
                keptNames.append(fieldNames[k])
                kept.append(contentsOf: values[(k * capacity)..<((k + 1) * capacity)])
            }
            fieldNames = keptNames
            values = kept
        }
        return ParsedCSVFile(path: path, times: times, lines: lines, fieldNames: fieldNames, values: values,
                             rowCapacity: capacity)
    }
}

extension String {
    /// The text with CSV's doubled quotes (`""`) collapsed.
    fileprivate func replacingDoubledQuotes() -> String {
        contains("\"\"") ? replacingOccurrences(of: "\"\"", with: "\"") : self
    }
}

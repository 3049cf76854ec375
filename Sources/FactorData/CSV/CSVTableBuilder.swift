import FactorCore

/// Parses a directory's CSV files in parallel and lays every instrument on one calendar.
///
/// The calendar is `calendars/<freq>.txt` when present (a row whose time is not on it is an error naming the
/// file and line), else the union of all files' times. Each instrument is stored from its first to its last row;
/// calendar rows inside that span without a row in the file are NaN.
enum CSVTableBuilder {
    /// The table of every instrument file of `layout`.
    ///
    /// A file that cannot be read or parsed does not sink the others: it is left out and recorded in
    /// `unreadable`, and any request that needs its instrument fails with the file's error (never a silent skip).
    /// When every file fails, the first error is thrown.
    static func build(_ layout: CSVDirectoryLayout) throws -> ColumnTable {
        let paths = layout.instruments.map(\.path)
        let results = Parallel.map(paths.count) { i in Result { try CSVFileParser.parse(path: paths[i]) } }
        var unreadable: [String: String] = [:]
        var parsed: [(CSVDirectoryLayout.Entry, ParsedCSVFile)] = []
        for (entry, result) in zip(layout.instruments, results) {
            switch result {
            case .success(let file): parsed.append((entry, file))
            case .failure(let error): unreadable[entry.code] = "\(error)"
            }
        }
        if parsed.isEmpty, let first = results.first, case .failure(let error) = first { throw error }
        var warnings: [String] = []
        var codes: [String] = []
        var files: [ParsedCSVFile] = []
        for (entry, file) in parsed {
            if file.rowCount == 0 {
                warnings.append("\(entry.path) has no data rows; instrument \(entry.code) skipped")
            } else {
                codes.append(entry.code)
                files.append(file)
            }
        }
        let calendar: [Timestamp]
        if let path = layout.calendarPath {
            calendar = try CalendarFile.read(path)
        } else {
            calendar = union(files.map(\.times))
        }
        var table = try lay(files, codes: codes, on: calendar, calendarName: layout.calendarPath ?? "",
                            frequency: layout.frequency, clipOutside: false, warnings: warnings)
        table.unreadable = unreadable
        return table
    }

    /// Benchmark files laid on an existing calendar; rows before its first or after its last bar are dropped.
    static func buildBenchmarks(_ entries: [CSVDirectoryLayout.Entry], calendar: MarketCalendar,
                                calendarName: String) throws -> ColumnTable {
        let parsed = try parseAll(entries.map(\.path))
        return try lay(parsed, codes: entries.map(\.code), on: calendar.times, calendarName: calendarName,
                       frequency: calendar.frequency, clipOutside: true, warnings: [])
    }

    /// Parses files in parallel; the first failure in file order is thrown.
    static func parseAll(_ paths: [String]) throws -> [ParsedCSVFile] {
        let results = Parallel.map(paths.count) { i in Result { try CSVFileParser.parse(path: paths[i]) } }
        return try results.map { try $0.get() }
    }

    /// The sorted union of sorted time lists.
    static func union(_ lists: [[Timestamp]]) -> [Timestamp] {
        var result: [Timestamp] = []
        for list in lists {
            if list == result || list.isEmpty { continue }
            var merged: [Timestamp] = []
            merged.reserveCapacity(result.count + list.count)
            var i = 0, j = 0
            while i < result.count && j < list.count {
                let a = result[i], b = list[j]
                if a < b { merged.append(a); i += 1 } else if b < a { merged.append(b); j += 1 } else {
                    merged.append(a); i += 1; j += 1
                }
            }
            merged.append(contentsOf: result[i...])
            merged.append(contentsOf: list[j...])
            result = merged
        }
        return result
    }

    /// Lays parsed files on `calendar` and packs their spans column by column.
    private static func lay(_ files: [ParsedCSVFile], codes: [String], on calendar: [Timestamp], calendarName: String,
                            frequency: Frequency, clipOutside: Bool, warnings: [String]) throws -> ColumnTable {
        let daily = !frequency.isIntraday
        // Calendar index of every row (−1: dropped, outside the calendar).
        let mapped = Parallel.map(files.count) { f in
            Result { () throws -> (rows: [Int32], span: Range<Int>) in
                let file = files[f]
                var rows = [Int32](repeating: -1, count: file.rowCount)
                var j = 0
                var first = -1, last = -1
                for r in 0..<file.rowCount {
                    let t = file.times[r]
                    if daily && t % 86_400 != 0 {
                        throw CSVError.timeOfDayInDailyFile(path: file.path, line: Int(file.lines[r]),
                                                            text: TimeFormat.dateTime(t))
                    }
                    while j < calendar.count && calendar[j] < t { j += 1 }
                    if j < calendar.count && calendar[j] == t {
                        rows[r] = Int32(j)
                        if first < 0 { first = j }
                        last = j
                    } else if clipOutside && (calendar.isEmpty || t < calendar[0] || t > calendar[calendar.count - 1]) {
                        continue
                    } else {
                        throw CSVError.dateNotOnCalendar(path: file.path, line: Int(file.lines[r]),
                                                         date: TimeCellParser.label(t), calendar: calendarName)
                    }
                }
                return (rows, first < 0 ? 0..<0 : first..<(last + 1))
            }
        }
        var rowMaps: [[Int32]] = []
        var spans: [Range<Int>] = []
        for m in mapped {
            let value = try m.get()
            rowMaps.append(value.rows)
            spans.append(value.span)
        }
        let fieldNames = Set(files.flatMap(\.fieldNames)).sorted()
        var offsets = [0]
        for s in spans { offsets.append(offsets[offsets.count - 1] + s.count) }
        let total = offsets[offsets.count - 1]
        // One column per field, filled in parallel (each worker owns one column).
        let columns = Parallel.map(fieldNames.count) { k -> [Double] in
            let name = fieldNames[k]
            var column = [Double](repeating: .nan, count: total)
            column.withUnsafeMutableBufferPointer { out in
                for (f, file) in files.enumerated() {
                    guard let slot = file.fieldNames.firstIndex(of: name) else { continue }
                    let base = offsets[f] - spans[f].lowerBound
                    let map = rowMaps[f]
                    file.values.withUnsafeBufferPointer { src in
                        let column = slot * file.rowCapacity
                        for r in 0..<file.rowCount where map[r] >= 0 {
                            out[base + Int(map[r])] = src[column + r]
                        }
                    }
                }
            }
            return column
        }
        return ColumnTable(frequency: frequency, times: calendar, codes: codes, spans: spans, fieldNames: fieldNames,
                           columns: columns.map { ColumnValues($0) }, warnings: warnings)
    }
}

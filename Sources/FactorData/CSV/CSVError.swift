import FactorCore

/// A malformed instrument CSV file; every case names the file and, where there is one, the line.
///
/// Descriptions read `path:line: problem`, the form editors and terminals turn into links.
public enum CSVError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file holds no header line.
    case emptyFile(path: String)
    /// No column is named `date`, `datetime`, `trade_date`, `time` or `timestamp`.
    case missingTimeColumn(path: String, header: [String])
    /// Two columns have the same (case-insensitive) name.
    case duplicateColumn(path: String, column: String)
    /// A cell of a numeric column is not a number (nor empty, `nan` or `inf`).
    case badNumber(path: String, line: Int, column: String, text: String)
    /// A time cell is not a date or date-time.
    case badDate(path: String, line: Int, column: String, text: String)
    /// A row's time is earlier than the previous row's.
    case unsortedDate(path: String, line: Int, date: String, previous: String)
    /// A row repeats the previous row's time.
    case duplicateDate(path: String, line: Int, date: String, firstLine: Int)
    /// A row has a different number of cells than the header.
    case raggedRow(path: String, line: Int, expected: Int, found: Int)
    /// A quoted cell is not closed, or text follows its closing quote.
    case malformedQuote(path: String, line: Int)
    /// A row's time is not on the directory's calendar file.
    case dateNotOnCalendar(path: String, line: Int, date: String, calendar: String)
    /// A daily file has a row with a time of day other than 00:00:00.
    case timeOfDayInDailyFile(path: String, line: Int, text: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .emptyFile(let p), .missingTimeColumn(let p, _), .duplicateColumn(let p, _),
             .badNumber(let p, _, _, _), .badDate(let p, _, _, _), .unsortedDate(let p, _, _, _),
             .duplicateDate(let p, _, _, _), .raggedRow(let p, _, _, _), .malformedQuote(let p, _),
             .dateNotOnCalendar(let p, _, _, _), .timeOfDayInDailyFile(let p, _, _):
            return p
        }
    }

    /// The 1-based line the error is about (1 = header), when it concerns one line.
    public var line: Int? {
        switch self {
        case .emptyFile: return nil
        case .missingTimeColumn, .duplicateColumn: return 1
        case .badNumber(_, let l, _, _), .badDate(_, let l, _, _), .unsortedDate(_, let l, _, _),
             .duplicateDate(_, let l, _, _), .raggedRow(_, let l, _, _), .malformedQuote(_, let l),
             .dateNotOnCalendar(_, let l, _, _), .timeOfDayInDailyFile(_, let l, _):
            return l
        }
    }

    public var description: String {
        switch self {
        case .emptyFile(let p):
            return "\(p): empty file: expected a header line such as 'date,open,high,low,close,volume'"
        case .missingTimeColumn(let p, let header):
            return "\(p):1: no time column: expected one named date, datetime, trade_date, time or timestamp; "
                + "the header has: \(header.joined(separator: ", "))"
        case .duplicateColumn(let p, let c):
            return "\(p):1: column '\(c)' appears twice in the header"
        case .badNumber(let p, let l, let c, let t):
            return "\(p):\(l): bad number '\(t)' in column '\(c)' "
                + "(expected a decimal number; an empty cell, nan or inf mark a missing or infinite value)"
        case .badDate(let p, let l, let c, let t):
            return "\(p):\(l): cannot read '\(t)' in column '\(c)' as a date "
                + "(expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)"
        case .unsortedDate(let p, let l, let d, let prev):
            return "\(p):\(l): rows are not in time order: \(d) comes after \(prev); sort the file by date"
        case .duplicateDate(let p, let l, let d, let first):
            return "\(p):\(l): duplicate row for \(d) (already on line \(first)); keep one row per bar"
        case .raggedRow(let p, let l, let e, let f):
            return "\(p):\(l): row has \(f) cell\(f == 1 ? "" : "s") but the header has \(e) columns"
        case .malformedQuote(let p, let l):
            return "\(p):\(l): malformed quoted cell (unclosed quote, or text after the closing quote)"
        case .dateNotOnCalendar(let p, let l, let d, let cal):
            return "\(p):\(l): \(d) is not a trading day of the calendar \(cal); "
                + "fix the row or add the day to the calendar"
        case .timeOfDayInDailyFile(let p, let l, let t):
            return "\(p):\(l): '\(t)' has a time of day but the file holds daily bars; "
                + "name intraday files CODE_<N>min.csv"
        }
    }
}

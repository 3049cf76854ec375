import FactorCore

/// Why a data directory could not be opened or a request could not be served.
///
/// Each description says what was wrong and what exists, so a user can fix the call.
public enum DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The data directory does not exist.
    case directoryNotFound(String)
    /// The path exists but is not a directory.
    case notADirectory(String)
    /// No `CODE*.csv` instrument file in the directory.
    case noInstrumentFiles(directory: String)
    /// The directory mixes files of several bar frequencies (`frequency: example file`).
    case mixedFrequencies(directory: String, found: [String])
    /// Two files hold the same instrument.
    case duplicateInstrument(code: String, files: [String])
    /// The bar frequency of un-suffixed `CODE.csv` files could not be inferred.
    case cannotInferFrequency(path: String, reason: String)
    /// A file could not be read.
    case unreadable(path: String, reason: String)
    /// A line of a `calendars/*.txt` file is bad.
    case badCalendarFile(path: String, line: Int, problem: String)
    /// A line of an `instruments/*.txt` file is bad.
    case badInstrumentsFile(path: String, line: Int, problem: String)
    /// A Qlib `.bin` file is malformed.
    case badQlibFile(path: String, problem: String)
    /// A Qlib directory lacks the calendar of the frequency.
    case missingCalendar(directory: String, expected: String)
    /// A universe text was empty.
    case emptyUniverse
    /// A universe name with no `instruments/<name>.txt`.
    case unknownUniverse(name: String, available: [String], directory: String)
    /// Instrument codes without data.
    case unknownCodes(unknown: [String], availableCount: Int, examples: [String], benchmarks: [String])
    /// Field names that no instrument has.
    case unknownFields(unknown: [String], available: [String])
    /// Auxiliary codes found neither among benchmarks nor instruments.
    case unknownAuxiliary(unknown: [String], benchmarks: [String])
    /// No instrument of the universe is a member between start and end.
    case noMembers(universe: String, start: String, end: String)
    /// Files the request needs could not be read (each message names its file and line).
    case unreadableFiles([String])
    /// `start` is after `end`.
    case startAfterEnd(start: String, end: String)
    /// No calendar row lies in [start, end].
    case noRowsInRange(start: String, end: String, calendarFirst: String, calendarLast: String)
    /// The data cannot be resampled to the requested frequency.
    case cannotResample(from: Frequency, to: Frequency, reason: String)
    /// No data directory was given or found.
    case noDataDirectory(tried: [String], hint: String)
    case noClassification(directory: String, categories: [String])
    case unknownCategory(String, path: String, available: [String])
    case noFinancialReports(directory: String, fields: [String])
    case unknownPeriodField(String, directory: String, available: [String])

    public var description: String {
        switch self {
        case .directoryNotFound(let d):
            return "data directory '\(d)' does not exist"
        case .notADirectory(let d):
            return "'\(d)' is not a directory; pass the folder that holds the instrument files"
        case .noInstrumentFiles(let d):
            return "no instrument files in '\(d)': expected CODE.csv, CODE_daily_hfq.csv, CODE_daily.csv or "
                + "CODE_<N>min.csv files (for a Qlib directory with features/, open it as kind qlib)"
        case .mixedFrequencies(let d, let found):
            return "'\(d)' mixes files of several bar frequencies (\(found.joined(separator: "; "))); "
                + "keep one frequency per directory"
        case .duplicateInstrument(let code, let files):
            return "instrument \(code) has several files: \(files.joined(separator: ", ")); keep one"
        case .cannotInferFrequency(let p, let reason):
            return "\(p): cannot infer the bar frequency (\(reason)); name the files CODE_daily.csv or CODE_<N>min.csv"
        case .unreadable(let p, let reason):
            return "cannot read '\(p)': \(reason)"
        case .badCalendarFile(let p, let l, let problem):
            return "\(p):\(l): \(problem)"
        case .badInstrumentsFile(let p, let l, let problem):
            return "\(p):\(l): \(problem) (expected 'SYMBOL<TAB>START<TAB>END')"
        case .badQlibFile(let p, let problem):
            return "\(p): \(problem)"
        case .missingCalendar(let d, let expected):
            return "'\(d)' has no calendar \(expected)"
        case .emptyUniverse:
            return "empty universe: pass 'all', a universe name such as 'csi300', or codes such as 'SH600000,SZ000001'"
        case .unknownUniverse(let name, let available, let dir):
            return "unknown universe '\(name)': available: \(available.joined(separator: ", ")) "
                + "(named universes are the files \(dir)/instruments/<name>.txt); "
                + "or pass instrument codes such as 'SH600000,SZ000001'"
        case .unknownCodes(let unknown, let count, let examples, let benchmarks):
            var text = "unknown instrument code\(unknown.count == 1 ? "" : "s"): \(unknown.joined(separator: ", ")); "
                + "\(count) instrument\(count == 1 ? "" : "s") have data"
            if !examples.isEmpty { text += ", e.g. \(examples.joined(separator: ", "))" }
            let bench = unknown.filter { benchmarks.contains($0) }
            if !bench.isEmpty {
                text += " (\(bench.joined(separator: ", ")) \(bench.count == 1 ? "is a benchmark" : "are benchmarks"): "
                    + "request \(bench.count == 1 ? "it" : "them") as auxiliary series)"
            }
            return text
        case .unknownFields(let unknown, let available):
            return "unknown field\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")); "
                + "available fields: \(available.joined(separator: ", "))"
        case .unknownAuxiliary(let unknown, let benchmarks):
            return "unknown auxiliary instrument\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")); "
                + (benchmarks.isEmpty ? "the directory has no benchmarks"
                   : "available benchmarks: \(benchmarks.joined(separator: ", "))")
                + " (any instrument code with data may be used too)"
        case .noMembers(let u, let s, let e):
            return "universe \(u) has no member with data between \(s) and \(e)"
        case .unreadableFiles(let messages):
            return "the request needs \(messages.count) file\(messages.count == 1 ? "" : "s") that cannot be read: "
                + messages.prefix(5).joined(separator: "; ") + (messages.count > 5 ? "; …" : "")
        case .startAfterEnd(let s, let e):
            return "start \(s) is after end \(e)"
        case .noRowsInRange(let s, let e, let first, let last):
            return "no bars between \(s) and \(e); the calendar runs from \(first) to \(last)"
        case .cannotResample(let from, let to, let reason):
            return "cannot resample \(from) bars to \(to): \(reason)"
        case .noDataDirectory(let tried, let hint):
            return "no data directory found (tried: \(tried.joined(separator: "; "))); \(hint)"
        case .noClassification(let directory, let categories):
            return "\(categories.map { "$" + $0 }.joined(separator: " ")) needs a classification file in \(directory)/meta "
                + "(industry.csv or one industry_*.csv: symbol, industry_code, csrc_section[, as_of]); there is none"
        case .unknownCategory(let category, let path, let available):
            return "\(path) has no column for $\(category) (it has \(available.map { "$" + $0 }.joined(separator: " ")))"
        case .noFinancialReports(let directory, let fields):
            return "\(fields.map { "$$" + $0 }.joined(separator: " ")) needs point-in-time reports in \(directory)/financial "
                + "(CSV files with code,period,announce_date,field,value); there is no such folder"
        case .unknownPeriodField(let field, let directory, let available):
            return "\(directory) has no reports of $$\(field) (it has \(available.isEmpty ? "none" : available.map { "$$" + $0 }.joined(separator: " ")))"
        }
    }
}

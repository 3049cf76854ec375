import FactorCore

/// A `calendars/<freq>.txt` file: one time per line, strictly increasing.
enum CalendarFile {
    /// Reads the calendar; every line must be a date (or date-time) later than the previous one.
    static func read(_ path: String) throws -> [Timestamp] {
        var times: [Timestamp] = []
        for (number, text) in try TextFiles.lines(path) {
            guard let t = TimeFormat.parse(text) else {
                throw DataError.badCalendarFile(path: path, line: number,
                                                problem: "cannot read '\(text)' as a date (expected YYYY-MM-DD)")
            }
            if let last = times.last, t <= last {
                throw DataError.badCalendarFile(
                    path: path, line: number,
                    problem: "\(text) is not after the previous line's \(TimeCellParser.label(last)); "
                        + "the calendar must be sorted without repeats")
            }
            times.append(t)
        }
        return times
    }
}

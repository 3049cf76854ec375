/// A bar's time label: seconds since 1970-01-01 00:00:00, read as exchange-local wall-clock time (no time zone).
///
/// Daily bars are labelled at midnight of their date; intraday bars at their end time.
public typealias Timestamp = Int64

/// Parsing and formatting of the two textual time forms FactorLab reads and writes.
public enum TimeFormat {
    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    @inlinable
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The (year, month, day) of a day count since 1970-01-01.
    @inlinable
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]` (also `YYYY/MM/DD` and `YYYYMMDD`).
    /// Returns nil when the text is not such a time or names an impossible date.
    public static func parse<C: Collection>(_ bytes: C) -> Timestamp? where C.Element == UInt8 {
        var digits: [Int] = []
        var groups: [Int] = []
        var current = 0
        var count = 0
        var separators = 0
        for b in bytes {
            if b >= 48 && b <= 57 {
                current = current * 10 + Int(b - 48)
                count += 1
                if count > 8 { return nil }
            } else if b == 45 || b == 47 || b == 58 || b == 32 || b == 84 {  // - / : space T
                if count == 0 { return nil }
                groups.append(current); digits.append(count)
                current = 0; count = 0; separators += 1
            } else if b == 13 || b == 34 {  // stray CR or quote
                continue
            } else {
                return nil
            }
        }
        if count > 0 { groups.append(current); digits.append(count) }
        var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0
        if groups.count == 1 && digits[0] == 8 {
            year = groups[0] / 10000; month = groups[0] / 100 % 100; day = groups[0] % 100
        } else if groups.count >= 3 && digits[0] == 4 && digits[1] <= 2 && digits[2] <= 2 {
            year = groups[0]; month = groups[1]; day = groups[2]
            if groups.count >= 5 { hour = groups[3]; minute = groups[4] } else if groups.count == 4 { return nil }
            if groups.count >= 6 { second = groups[5] }
            if groups.count > 6 { return nil }
        } else {
            return nil
        }
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month),
              hour < 24, minute < 60, second < 60 else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Timestamp(days) * 86_400 + Timestamp(hour * 3600 + minute * 60 + second)
    }

    /// Parses a time from a string (see `parse(_:)` for the accepted forms).
    public static func parse(_ text: String) -> Timestamp? {
        parse(Array(text.utf8))
    }

    /// Number of days in a month of the proleptic Gregorian calendar.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Day number (days since 1970-01-01) of a timestamp.
    @inlinable
    public static func dayNumber(_ t: Timestamp) -> Int {
        Int(t >= 0 ? t / 86_400 : (t - 86_399) / 86_400)
    }

    /// `YYYY-MM-DD`.
    public static func date(_ t: Timestamp) -> String {
        let (y, m, d) = civilFromDays(dayNumber(t))
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    /// `YYYY-MM-DD HH:MM:SS`.
    public static func dateTime(_ t: Timestamp) -> String {
        let secs = Int(t - Timestamp(dayNumber(t)) * 86_400)
        return date(t) + " " + pad(secs / 3600, 2) + ":" + pad(secs / 60 % 60, 2) + ":" + pad(secs % 60, 2)
    }

    /// A date for daily and coarser bars, a date and time for intraday bars.
    public static func label(_ t: Timestamp, intraday: Bool) -> String {
        intraday ? dateTime(t) : date(t)
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

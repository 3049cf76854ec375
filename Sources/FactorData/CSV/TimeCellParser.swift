import FactorCore

/// Fast parsing of CSV time cells; falls back to `TimeFormat.parse` for forms other than
/// `YYYY-MM-DD` and `YYYY-MM-DD HH:MM[:SS]`.
enum TimeCellParser {
    @inline(__always)
    private static func digit(_ p: UnsafePointer<UInt8>, _ i: Int) -> Int? {
        let d = p[i] &- 48
        return d <= 9 ? Int(d) : nil
    }

    @inline(__always)
    private static func two(_ p: UnsafePointer<UInt8>, _ i: Int) -> Int? {
        guard let a = digit(p, i), let b = digit(p, i + 1) else { return nil }
        return a * 10 + b
    }

    /// A date or date-time cell; nil when it is not one.
    @inline(__always)
    static func parse(_ p: UnsafePointer<UInt8>, _ count: Int) -> Timestamp? {
        if count == 10 || count == 16 || count == 19, p[4] == 45, p[7] == 45,
           let y1 = two(p, 0), let y2 = two(p, 2), let month = two(p, 5), let day = two(p, 8) {
            let year = y1 * 100 + y2
            guard month >= 1, month <= 12, day >= 1,
                  day <= TimeFormat.daysInMonth(year: year, month: month) else { return nil }
            var seconds = 0
            if count > 10 {
                guard p[10] == 32 || p[10] == 84, p[13] == 58, let h = two(p, 11), let m = two(p, 14),
                      h < 24, m < 60 else { return fallback(p, count) }
                seconds = h * 3600 + m * 60
                if count == 19 {
                    guard p[16] == 58, let s = two(p, 17), s < 60 else { return fallback(p, count) }
                    seconds += s
                }
            }
            let days = TimeFormat.daysFromCivil(year: year, month: month, day: day)
            return Timestamp(days) * 86_400 + Timestamp(seconds)
        }
        return fallback(p, count)
    }

    @inline(never)
    private static func fallback(_ p: UnsafePointer<UInt8>, _ count: Int) -> Timestamp? {
        TimeFormat.parse(UnsafeBufferPointer(start: p, count: count))
    }

    /// A time-of-day cell (`HH:MM`, `HH:MM:SS`, `HHMM`, `HHMMSS`) as seconds after midnight.
    static func parseTimeOfDay(_ p: UnsafePointer<UInt8>, _ count: Int) -> Int? {
        var parts: [Int] = []
        var current = 0, digits = 0
        for i in 0..<count {
            let b = p[i]
            if let d = digit(p, i) {
                current = current * 10 + d
                digits += 1
            } else if b == 58 && digits > 0 {
                parts.append(current)
                current = 0
                digits = 0
            } else {
                return nil
            }
        }
        guard digits > 0 else { return nil }
        parts.append(current)
        var h = 0, m = 0, s = 0
        if parts.count == 1 {
            switch digits {
            case 3, 4: h = current / 100; m = current % 100
            case 5, 6: h = current / 10_000; m = current / 100 % 100; s = current % 100
            default: return nil
            }
        } else if parts.count == 2 {
            h = parts[0]; m = parts[1]
        } else if parts.count == 3 {
            h = parts[0]; m = parts[1]; s = parts[2]
        } else {
            return nil
        }
        guard h < 24, m < 60, s < 60 else { return nil }
        return h * 3600 + m * 60 + s
    }

    /// A label for messages: the date, or date and time when the time of day is not midnight.
    static func label(_ t: Timestamp) -> String {
        TimeFormat.label(t, intraday: t - Timestamp(TimeFormat.dayNumber(t)) * 86_400 != 0)
    }
}

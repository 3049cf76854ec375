import FactorCore

/// `TResample(x, 'W', 'mean')`: each row carries the aggregate of x over the calendar period (day, week, month,
/// quarter or year) *before* the row's own, over the instrument's rows of that period. Only periods that have ended
/// are read, so the value never depends on rows after the current one, nor on where the requested range ends.
///
/// Qlib's `TResample` is pandas `series.resample(freq).func()`: one row per period, labelled at the period's start,
/// which reads the whole period on its first day (a look-ahead) and leaves the calendar. FactorLab keeps the row's
/// calendar and shifts by one period: on daily bars `TResample($close, 'W', 'last')` is last week's closing price on
/// every day of this week; on 5-minute bars `TResample($close, '1d', 'last')` is the previous day's close.
public struct PeriodResample: Sendable, Hashable {
    /// The calendar period rows are grouped by.
    public enum Period: String, Sendable, Hashable, CaseIterable {
        case day, week, month, quarter, year

        /// The pandas-style spelling used in the canonical text.
        public var alias: String {
            switch self {
            case .day: return "1d"
            case .week: return "W"
            case .month: return "M"
            case .quarter: return "Q"
            case .year: return "Y"
            }
        }

        /// Reads `1d`/`D`/`day`, `W`/`1w`/`week`, `M`/`ME`/`1M`/`month`, `Q`/`QE`/`quarter`, `Y`/`YE`/`A`/`year`
        /// (pandas' aliases and the words; `1min` and other intraday sizes are not periods of this operator).
        public init?(text: String) {
            let t = text.trimmedASCII()
            switch t {
            case "M", "ME", "1M", "1ME", "MS": self = .month; return
            default: break
            }
            switch t.lowercased() {
            case "1d", "d", "day", "daily": self = .day
            case "w", "1w", "w-sun", "week", "weekly": self = .week
            case "month", "monthly": self = .month
            case "q", "1q", "qe", "qs", "quarter", "quarterly": self = .quarter
            case "y", "1y", "ye", "ys", "a", "year", "yearly", "annual": self = .year
            default: return nil
            }
        }

        /// The period holding `t` as an increasing integer (weeks run Monday to Sunday, as pandas' `W`).
        public func key(_ t: Timestamp) -> Int {
            let day = TimeFormat.dayNumber(t)
            switch self {
            case .day: return day
            case .week:
                let shifted = day + 3  // 1970-01-01 was a Thursday
                return shifted >= 0 ? shifted / 7 : (shifted - 6) / 7
            case .month, .quarter, .year:
                let (y, m, _) = TimeFormat.civilFromDays(day)
                switch self {
                case .month: return y * 12 + m - 1
                case .quarter: return y * 4 + (m - 1) / 3
                default: return y
                }
            }
        }
    }

    /// How a period's values are summarised; NaN values are skipped, as pandas does.
    public enum Aggregation: String, Sendable, Hashable, CaseIterable {
        case first, last, mean, sum, max, min, std, `var`, count

        /// Reads the name (case-insensitive).
        public init?(text: String) {
            self.init(rawValue: text.trimmedASCII().lowercased())
        }
    }

    public var period: Period
    public var aggregation: Aggregation

    public init(period: Period, aggregation: Aggregation) {
        self.period = period
        self.aggregation = aggregation
    }

    /// The calendar's rows grouped into consecutive periods.
    public func groups(_ times: [Timestamp]) -> [Range<Int>] {
        var groups: [Range<Int>] = []
        var start = 0
        while start < times.count {
            let k = period.key(times[start])
            var end = start + 1
            while end < times.count && period.key(times[end]) == k { end += 1 }
            groups.append(start..<end)
            start = end
        }
        return groups
    }

    /// The aggregate of `values` (NaN skipped): pandas' `first`/`last` (first/last non-NaN), `mean`, `sum` with
    /// `min_count=1`, `max`, `min`, `std`/`var` with one degree of freedom, `count` (0 when every value is NaN).
    public func aggregate(_ values: UnsafeBufferPointer<Double>) -> Double {
        var n = 0
        var first = Double.nan, last = Double.nan
        var sum = 0.0, lo = Double.infinity, hi = -Double.infinity
        for v in values where !v.isNaN {
            if n == 0 { first = v }
            last = v
            n += 1
            sum += v
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
        }
        switch aggregation {
        case .count: return Double(n)
        case .first: return first
        case .last: return last
        case .sum: return n == 0 ? .nan : sum
        case .mean: return n == 0 ? .nan : sum / Double(n)
        case .max: return n == 0 ? .nan : hi
        case .min: return n == 0 ? .nan : lo
        case .std, .var:
            guard n > 1 else { return .nan }
            let mean = sum / Double(n)
            var squares = 0.0
            for v in values where !v.isNaN { squares += (v - mean) * (v - mean) }
            let variance = squares / Double(n - 1)
            return aggregation == .var ? variance : variance.squareRoot()
        }
    }

    /// Writes, for every row of `span` (an instrument's rows), the aggregate of `x` over its rows in the period
    /// before the row's own (NaN when the instrument has no rows there).
    public func apply(_ x: UnsafePointer<Double>, span: Range<Int>, groups: [Range<Int>], into out: UnsafeMutablePointer<Double>) {
        var previous = Double.nan
        for group in groups {
            let rows = group.clamped(to: span)
            if rows.isEmpty {
                if group.lowerBound >= span.upperBound { break }
                previous = .nan
                continue
            }
            for t in rows { out[t] = previous }
            previous = aggregate(UnsafeBufferPointer(start: x + rows.lowerBound, count: rows.count))
        }
    }
}

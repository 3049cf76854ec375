/// The ordered bar times of a market at one frequency. Windows and horizons count rows of a calendar.
public struct MarketCalendar: Sendable, Equatable {
    /// Bar labels, strictly increasing.
    public let times: [Timestamp]
    /// The frequency of the bars.
    public let frequency: Frequency

    public init(times: [Timestamp], frequency: Frequency) {
        self.times = times
        self.frequency = frequency
    }

    public var count: Int { times.count }

    /// Index of the first bar at or after `t` (`count` when none).
    public func lowerBound(_ t: Timestamp) -> Int {
        var lo = 0, hi = times.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Index of the first bar strictly after `t` (`count` when none).
    public func upperBound(_ t: Timestamp) -> Int {
        var lo = 0, hi = times.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Index of the bar labelled exactly `t`.
    public func index(of t: Timestamp) -> Int? {
        let i = lowerBound(t)
        return i < times.count && times[i] == t ? i : nil
    }

    /// The rows whose label falls within [start, end] (a date `end` includes every intraday bar of that day).
    public func rows(from start: Timestamp?, through end: Timestamp?) -> Range<Int> {
        let lo = start.map { lowerBound($0) } ?? 0
        var hi = times.count
        if let end {
            let inclusiveEnd = frequency.isIntraday && end % 86_400 == 0 ? end + 86_399 : end
            hi = upperBound(inclusiveEnd)
        }
        return lo..<max(lo, hi)
    }

    /// The text label of row `i` (a date, or date and time for intraday bars).
    public func label(_ i: Int) -> String {
        TimeFormat.label(times[i], intraday: frequency.isIntraday)
    }

    /// A calendar holding only `range` of this one.
    public func slice(_ range: Range<Int>) -> MarketCalendar {
        MarketCalendar(times: Array(times[range]), frequency: frequency)
    }
}

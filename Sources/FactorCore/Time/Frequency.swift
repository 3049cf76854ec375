/// The bar frequency of a panel: daily, resampled weekly / monthly, or intraday bars of N minutes.
public enum Frequency: Sendable, Hashable, CustomStringConvertible {
    case day
    case week
    case month
    case minutes(Int)

    /// Parses `day`, `1d`, `daily`, `week`, `1w`, `weekly`, `month`, `1m`, `monthly`, `5min`, `15min`, `60min`, `1h`.
    public init?(_ text: String) {
        let t = text.lowercased().trimmedASCII()
        switch t {
        case "day", "1d", "d", "daily": self = .day
        case "week", "1w", "w", "weekly": self = .week
        case "month", "1mon", "mon", "monthly": self = .month
        case "1h", "60m", "hour": self = .minutes(60)
        default:
            var digits = Substring(t)
            if digits.hasSuffix("min") { digits = digits.dropLast(3) } else if digits.hasSuffix("m") { digits = digits.dropLast(1) } else { return nil }
            guard let n = Int(digits), n > 0, n <= 240 else { return nil }
            self = .minutes(n)
        }
    }

    /// The name used in file names, CLI flags and reports (`day`, `week`, `month`, `5min`).
    public var description: String {
        switch self {
        case .day: return "day"
        case .week: return "week"
        case .month: return "month"
        case .minutes(let n): return "\(n)min"
        }
    }

    /// True for bars shorter than a day.
    public var isIntraday: Bool {
        if case .minutes = self { return true }
        return false
    }

    /// Bar length in minutes for intraday frequencies.
    public var minutes: Int? {
        if case .minutes(let n) = self { return n }
        return nil
    }

    /// Bars per year used to annualise (252 trading days; intraday: 252 × bars per day).
    public func periodsPerYear(barsPerDay: Int? = nil) -> Double {
        switch self {
        case .day: return 252
        case .week: return 52
        case .month: return 12
        case .minutes(let n): return 252 * Double(barsPerDay ?? max(1, 240 / n))
        }
    }
}


/// How the rows of one resampled bar combine into its value, chosen by field name.
public enum AggregationRule: Sendable, Equatable {
    /// The first non-NaN value (`open`).
    case first
    /// The largest non-NaN value (`high`).
    case maximum
    /// The smallest non-NaN value (`low`).
    case minimum
    /// The last non-NaN value (`close`, `factor` and any field without a rule of its own).
    case last
    /// The sum of the non-NaN values (`volume`, `amount`, `money`, `turnover`).
    case sum
    /// The volume-weighted mean of the bars' values (`vwap`): Σ vwap·volume / Σ volume over the rows where both
    /// are valid and volume > 0 (equal to Σ amount / Σ volume when vwap = amount / volume); the last valid value
    /// when there is no volume field or the group traded nothing.
    case volumeWeighted

    /// The rule for a field name (lower case).
    public init(field: String) {
        switch field {
        case "open": self = .first
        case "high": self = .maximum
        case "low": self = .minimum
        case "close": self = .last
        case "volume", "amount", "money", "turnover", "vol": self = .sum
        case "vwap": self = .volumeWeighted
        default: self = .last
        }
    }

    /// Aggregates `values[range]` (with `weights[range]` for `.volumeWeighted`); NaN when no row is valid.
    @inline(__always)
    func apply(_ values: UnsafeBufferPointer<Double>, _ weights: UnsafeBufferPointer<Double>?,
               _ range: Range<Int>) -> Double {
        switch self {
        case .first:
            for t in range where !values[t].isNaN { return values[t] }
            return .nan
        case .last:
            for t in range.reversed() where !values[t].isNaN { return values[t] }
            return .nan
        case .maximum:
            var best = Double.nan
            for t in range {
                let v = values[t]
                if !v.isNaN && (best.isNaN || v > best) { best = v }
            }
            return best
        case .minimum:
            var best = Double.nan
            for t in range {
                let v = values[t]
                if !v.isNaN && (best.isNaN || v < best) { best = v }
            }
            return best
        case .sum:
            var total = 0.0
            var any = false
            for t in range where !values[t].isNaN {
                total += values[t]
                any = true
            }
            return any ? total : .nan
        case .volumeWeighted:
            if let weights {
                var weighted = 0.0, total = 0.0
                for t in range {
                    let v = values[t], w = weights[t]
                    if !v.isNaN && !w.isNaN && w > 0 {
                        weighted += v * w
                        total += w
                    }
                }
                if total > 0 { return weighted / total }
            }
            return AggregationRule.last.apply(values, nil, range)
        }
    }
}

import FactorCore

/// Resampling of bars to a coarser frequency.
///
/// - Daily (or intraday) → `week` / `month`: rows grouped by ISO week (Monday–Sunday) or calendar month of
///   their trading day; a bar is labelled by its last trading day (at 00:00).
/// - Intraday → `day`: rows grouped by date, labelled by the date at 00:00.
/// - Intraday (N min) → coarser intraday (M min, M a multiple of N): within each day, consecutive groups of
///   M/N bars in calendar order, labelled by the last bar's end time (for A-shares' two sessions of 120 minutes
///   this is the session-aligned grouping; a day whose bar count is not a multiple ends with a short bar).
///
/// Values combine by `AggregationRule(field:)`: open first valid, high max, low min, close last valid, volume and
/// amount summed, vwap volume-weighted, other fields last valid; a bar where an instrument has no valid row is
/// NaN. An instrument's span becomes the bars that contain at least one of its rows. Membership on a resampled
/// bar is membership on its last source row (for weekly and monthly bars: on the last trading day).
public enum Resampler {
    /// The grouping of `calendar`'s rows into bars of `frequency`.
    public static func plan(from calendar: MarketCalendar, to frequency: Frequency) throws -> ResamplePlan {
        let from = calendar.frequency
        if from == frequency {
            return ResamplePlan(source: calendar, target: calendar, groups: (0..<calendar.count).map { $0..<($0 + 1) })
        }
        switch (from, frequency) {
        case (.minutes(let n), .minutes(let m)):
            guard m > n else {
                throw DataError.cannotResample(from: from, to: frequency, reason: "the data has coarser bars")
            }
            guard m % n == 0 else {
                throw DataError.cannotResample(from: from, to: frequency,
                                               reason: "\(m) is not a multiple of \(n) minutes")
            }
            return intradayPlan(calendar, target: frequency, barsPerGroup: m / n)
        case (.minutes, .day), (.minutes, .week), (.minutes, .month), (.day, .week), (.day, .month):
            return keyedPlan(calendar, target: frequency)
        default:
            throw DataError.cannotResample(from: from, to: frequency,
                                           reason: "only coarser frequencies can be built from the data's bars")
        }
    }

    /// Groups by day, ISO week or month; labels are the last row's date at 00:00.
    private static func keyedPlan(_ calendar: MarketCalendar, target: Frequency) -> ResamplePlan {
        func key(_ t: Timestamp) -> Int {
            let day = TimeFormat.dayNumber(t)
            switch target {
            case .week:
                let shifted = day + 3  // 1970-01-01 was a Thursday; weeks start on Monday
                return shifted >= 0 ? shifted / 7 : (shifted - 6) / 7
            case .month:
                let (y, m, _) = TimeFormat.civilFromDays(day)
                return y * 12 + m - 1
            default:
                return day
            }
        }
        var groups: [Range<Int>] = []
        var labels: [Timestamp] = []
        var start = 0
        let times = calendar.times
        while start < times.count {
            let k = key(times[start])
            var end = start + 1
            while end < times.count && key(times[end]) == k { end += 1 }
            groups.append(start..<end)
            labels.append(Timestamp(TimeFormat.dayNumber(times[end - 1])) * 86_400)
            start = end
        }
        return ResamplePlan(source: calendar, target: MarketCalendar(times: labels, frequency: target), groups: groups)
    }

    /// Consecutive groups of `barsPerGroup` bars within each day, labelled by the last bar's time.
    private static func intradayPlan(_ calendar: MarketCalendar, target: Frequency, barsPerGroup: Int) -> ResamplePlan {
        var groups: [Range<Int>] = []
        var labels: [Timestamp] = []
        let times = calendar.times
        var start = 0
        while start < times.count {
            let day = TimeFormat.dayNumber(times[start])
            var end = start + 1
            while end < times.count && end - start < barsPerGroup && TimeFormat.dayNumber(times[end]) == day {
                end += 1
            }
            groups.append(start..<end)
            labels.append(times[end - 1])
            start = end
        }
        return ResamplePlan(source: calendar, target: MarketCalendar(times: labels, frequency: target), groups: groups)
    }

    /// Aggregates every instrument of `panel` over `groups` (row ranges of `panel`) with `rule`.
    public static func aggregate(_ panel: Panel, rule: AggregationRule, weights: Panel? = nil,
                                 groups: [Range<Int>]) -> Panel {
        let length = panel.length
        let count = groups.count
        var out = [Double](repeating: .nan, count: panel.instrumentCount * count)
        panel.values.withUnsafeBufferPointer { all in
            let allWeights = weights?.values
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<panel.instrumentCount {
                    let series = UnsafeBufferPointer(rebasing: all[(i * length)..<((i + 1) * length)])
                    if let allWeights, rule == .volumeWeighted {
                        allWeights.withUnsafeBufferPointer { w in
                            let ws = UnsafeBufferPointer(rebasing: w[(i * length)..<((i + 1) * length)])
                            for (g, r) in groups.enumerated() { dst[i * count + g] = rule.apply(series, ws, r) }
                        }
                    } else {
                        for (g, r) in groups.enumerated() { dst[i * count + g] = rule.apply(series, nil, r) }
                    }
                }
            }
        }
        return Panel(instrumentCount: panel.instrumentCount, length: count, values: out)
    }

    /// Aggregates a field dictionary over `groups`, each field by its rule (vwap weighted by `volume`).
    static func aggregate(fields: [String: Panel], groups: [Range<Int>]) -> [String: Panel] {
        var out: [String: Panel] = [:]
        for (name, panel) in fields {
            let rule = AggregationRule(field: name)
            out[name] = aggregate(panel, rule: rule, weights: rule == .volumeWeighted ? fields["volume"] : nil,
                                  groups: groups)
        }
        return out
    }

    /// `data` resampled to `frequency` (see the type's documentation for the rules).
    public static func resample(_ data: MarketData, to frequency: Frequency) throws -> MarketData {
        let plan = try plan(from: data.calendar, to: frequency)
        if plan.target == plan.source { return data }
        let fields = aggregate(fields: data.fields, groups: plan.groups)
        let spans = data.spans.map { plan.targetRows(covering: $0) }
        var memberRows: [[Range<Int>]] = []
        for i in 0..<data.instruments.count {
            var ranges: [Range<Int>] = []
            for (g, r) in plan.groups.enumerated() where data.membership.isMember(i, r.upperBound - 1) {
                if let last = ranges.last, last.upperBound == g {
                    ranges[ranges.count - 1] = last.lowerBound..<(g + 1)
                } else {
                    ranges.append(g..<(g + 1))
                }
            }
            memberRows.append(ranges)
        }
        var auxiliary: [String: AuxiliarySeries] = [:]
        for (code, series) in data.auxiliary {
            auxiliary[code] = resample(series, groups: plan.groups)
        }
        return MarketData(instruments: data.instruments, calendar: plan.target, spans: spans, fields: fields,
                          membership: Membership(rows: memberRows, length: plan.target.count), auxiliary: auxiliary)
    }

    /// One auxiliary series aggregated over `groups`.
    static func resample(_ series: AuxiliarySeries, groups: [Range<Int>]) -> AuxiliarySeries {
        var panels: [String: Panel] = [:]
        for (name, values) in series.fields {
            panels[name] = Panel(instrumentCount: 1, length: values.count, values: values)
        }
        let aggregated = aggregate(fields: panels, groups: groups)
        var span = 0..<0
        if !series.span.isEmpty, let first = groups.firstIndex(where: { $0.contains(series.span.lowerBound) }),
           let last = groups.lastIndex(where: { $0.contains(series.span.upperBound - 1) }) {
            span = first..<(last + 1)
        }
        return AuxiliarySeries(span: span, fields: aggregated.mapValues(\.values))
    }
}

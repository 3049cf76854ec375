import FactorCore

/// Which source rows form each bar of a resampled calendar.
///
/// Groups are contiguous, ascending and cover every source row exactly once.
public struct ResamplePlan: Sendable, Equatable {
    /// The calendar being resampled.
    public let source: MarketCalendar
    /// The resampled calendar.
    public let target: MarketCalendar
    /// `groups[g]` are the source rows of target bar g.
    public let groups: [Range<Int>]
    /// `groupOfRow[t]` is the target bar holding source row t.
    public let groupOfRow: [Int]

    public init(source: MarketCalendar, target: MarketCalendar, groups: [Range<Int>]) {
        self.source = source
        self.target = target
        self.groups = groups
        var map = [Int](repeating: 0, count: source.count)
        for (g, r) in groups.enumerated() {
            for t in r { map[t] = g }
        }
        self.groupOfRow = map
    }

    /// The target bars that contain at least one of the source `rows` (a resampled span); empty for empty rows.
    public func targetRows(covering rows: Range<Int>) -> Range<Int> {
        guard !rows.isEmpty else { return 0..<0 }
        return groupOfRow[rows.lowerBound]..<(groupOfRow[rows.upperBound - 1] + 1)
    }

    /// The source rows of the target bars `bars`.
    public func sourceRows(of bars: Range<Int>) -> Range<Int> {
        guard !bars.isEmpty else { return 0..<0 }
        return groups[bars.lowerBound].lowerBound..<groups[bars.upperBound - 1].upperBound
    }
}

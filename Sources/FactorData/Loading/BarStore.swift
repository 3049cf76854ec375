import FactorCore

/// Bars of some instruments read over a range of calendar rows.
struct BarBlock: Sendable {
    /// Each instrument's rows with data within the range, relative to its start (empty when none).
    var spans: [Range<Int>]
    /// Requested fields, each over instruments × range rows.
    var fields: [String: Panel]
}

/// Where the loader reads bars at a source's stored frequency: a parsed CSV table or a Qlib directory.
protocol BarStore: Sendable {
    /// The stored bar frequency.
    var frequency: Frequency { get }
    /// The stored calendar.
    var calendar: MarketCalendar { get }
    /// Instruments with data, sorted.
    var codes: [String] { get }
    /// Lower-case field names, sorted.
    var fieldNames: [String] { get }
    /// Whether `code` (upper case) has data here.
    func contains(_ code: String) -> Bool
    /// The fields `code` has (at most `fieldNames`).
    func fieldNames(of code: String) -> [String]
    /// Rows from each instrument's first to its last stored bar (empty when it has none).
    func spans(of codes: [String]) throws -> [Range<Int>]
    /// `fields` of `codes` over calendar `rows`; fields an instrument lacks are NaN.
    func read(codes: [String], fields: [String], rows: Range<Int>) throws -> BarBlock
}

extension Range where Bound == Int {
    /// The part of this range inside `other`, re-based so that `other.lowerBound` is 0 (empty: `0..<0`).
    func clipped(to other: Range<Int>) -> Range<Int> {
        let lo = Swift.max(lowerBound, other.lowerBound), hi = Swift.min(upperBound, other.upperBound)
        return lo < hi ? (lo - other.lowerBound)..<(hi - other.lowerBound) : 0..<0
    }
}

/// One report of a point-in-time fundamental: the value of a fiscal period as announced on a date. A later report of
/// the same period is a revision; it replaces the earlier one from its own announcement date on.
public struct PeriodRecord: Sendable, Equatable {
    /// The announcement date, in days since 1970-01-01 (visible from that date's rows on, as in Qlib).
    public var announced: Int
    /// The fiscal period: `YYYYQQ` for a quarterly field (`201803` is 2018's third quarter), `YYYY` for an annual one.
    public var period: Int
    public var value: Double

    public init(announced: Int, period: Int, value: Double) {
        self.announced = announced
        self.period = period
        self.value = value
    }
}

/// A point-in-time fundamental field (`roe_q`, `eps_a`) of a set of instruments: each instrument's reports in
/// announcement order (reports of one day in the order the source lists them).
public struct PeriodField: Sendable, Equatable {
    /// True for a quarterly field (name ending in `_q`), false for an annual one (`_a`).
    public var quarterly: Bool
    /// Per instrument, in the instruments' order.
    public var records: [[PeriodRecord]]

    public init(quarterly: Bool, records: [[PeriodRecord]]) {
        self.quarterly = quarterly
        self.records = records
    }

    /// The periods from `first` through `last`: consecutive quarters (`201804` is followed by `201901`) or years.
    public static func periods(from first: Int, through last: Int, quarterly: Bool) -> [Int] {
        guard first <= last else { return [] }
        guard quarterly else { return Array(first...last) }
        var out: [Int] = []
        var p = first
        while p <= last {
            out.append(p)
            p = p % 100 >= 4 ? (p / 100 + 1) * 100 + 1 : p + 1
        }
        return out
    }

    /// The same field restricted to the instruments at `indices`, in that order.
    public func selectingInstruments(_ indices: [Int]) -> PeriodField {
        PeriodField(quarterly: quarterly, records: indices.map { records[$0] })
    }
}

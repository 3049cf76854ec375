/// Point-in-time universe membership: for each instrument, the calendar rows on which it is a member.
public struct Membership: Sendable, Equatable {
    /// `rows[i]` lists disjoint, ascending row ranges of instrument i.
    public let rows: [[Range<Int>]]
    /// Calendar length the ranges refer to.
    public let length: Int

    public init(rows: [[Range<Int>]], length: Int) {
        self.rows = rows
        self.length = length
    }

    /// Everyone is a member on every row.
    public static func everyone(instrumentCount: Int, length: Int) -> Membership {
        Membership(rows: Array(repeating: [0..<length], count: instrumentCount), length: length)
    }

    /// Whether instrument i is a member on row t.
    public func isMember(_ i: Int, _ t: Int) -> Bool {
        for r in rows[i] where r.contains(t) { return true }
        return false
    }

    /// A dense instrument-major mask (`mask[i * length + t]`).
    public func denseMask() -> [Bool] {
        var mask = [Bool](repeating: false, count: rows.count * length)
        for (i, ranges) in rows.enumerated() {
            for r in ranges {
                for t in r { mask[i * length + t] = true }
            }
        }
        return mask
    }

    /// Membership restricted to calendar rows `range`, re-based to start at 0.
    public func slicingRows(_ range: Range<Int>) -> Membership {
        let out = rows.map { ranges -> [Range<Int>] in
            ranges.compactMap { r in
                let lo = max(r.lowerBound, range.lowerBound), hi = min(r.upperBound, range.upperBound)
                return lo < hi ? (lo - range.lowerBound)..<(hi - range.lowerBound) : nil
            }
        }
        return Membership(rows: out, length: range.count)
    }

    /// Number of instruments that are members on at least one row.
    public var memberCount: Int { rows.filter { !$0.isEmpty }.count }
}

import FactorCore

/// Forward returns of one horizon and delay, computed once per universe and shared by every factor, with each
/// row's instruments pre-sorted by return so that a factor's Rank IC needs no sort of returns.
public struct ForwardReturns: Sendable {
    public let horizon: Int
    public let delay: Int
    public let length: Int
    /// `byRow[t * instruments + i] = c[i, t+d+h] / c[i, t+d] − 1` (NaN when either close is missing or past the
    /// data), row-major so that a row's cross-section — what every per-row figure reads — is contiguous.
    let byRow: [Double]
    let instruments: Int
    /// For rows `sortedRows`, the instruments with a finite return, ascending by return.
    let sorted: [[Int32]]
    /// Whether a sorted row holds equal returns (most do not: their ranks need no tie handling).
    let tied: [Bool]
    let sortedRows: Range<Int>

    /// Returns for `horizon` with `delay`, sorted on `rows`.
    public init(universe: EvaluationUniverse, horizon: Int, delay: Int, sortedRows rows: Range<Int>) {
        let length = universe.calendar.count
        let n = universe.instruments.count
        var values = [Double](repeating: .nan, count: n * length)
        let close = universe.close
        for i in 0..<n {
            let base = i * length
            var t = 0
            while t + delay + horizon < length {
                let entry = close.values[base + t + delay], exit = close.values[base + t + delay + horizon]
                let r = exit / entry - 1
                values[base + t] = r.isFinite ? r : .nan
                t += 1
            }
        }
        self.init(values: values, instruments: n, length: length, horizon: horizon, delay: delay, sortedRows: rows)
    }

    /// A custom label (an expression's values, instrument-major) used in place of the forward return;
    /// `horizon` only sets the Newey-West lag (h − 1).
    public init(label: Panel, horizon: Int, sortedRows rows: Range<Int>) {
        self.init(values: label.values.map { $0.isFinite ? $0 : .nan }, instruments: label.instrumentCount,
                  length: label.length, horizon: horizon, delay: 0, sortedRows: rows)
    }

    private init(values: [Double], instruments n: Int, length: Int, horizon: Int, delay: Int, sortedRows rows: Range<Int>) {
        self.horizon = horizon
        self.delay = delay
        self.length = length
        instruments = n
        var byRow = [Double](repeating: .nan, count: n * length)
        for i in 0..<n { for t in 0..<length { byRow[t * n + i] = values[i * length + t] } }
        self.byRow = byRow
        let clipped = max(0, rows.lowerBound)..<min(length, rows.upperBound)
        sortedRows = clipped
        var sorted: [[Int32]] = []
        var tied: [Bool] = []
        sorted.reserveCapacity(clipped.count)
        for t in clipped {
            var order: [Int32] = []
            order.reserveCapacity(n)
            for i in 0..<n where values[i * length + t].isFinite { order.append(Int32(i)) }
            order.sort { values[Int($0) * length + t] < values[Int($1) * length + t] }
            var hasTie = false
            for k in order.indices.dropFirst() where values[Int(order[k]) * length + t] == values[Int(order[k - 1]) * length + t] {
                hasTie = true
                break
            }
            sorted.append(order)
            tied.append(hasTie)
        }
        self.sorted = sorted
        self.tied = tied
    }

    @inline(__always)
    public func value(_ i: Int, _ t: Int) -> Double { byRow[t * instruments + i] }

    /// Instruments with a finite return on row t, ascending by return (empty outside the sorted rows).
    func order(_ t: Int) -> [Int32] {
        sortedRows.contains(t) ? sorted[t - sortedRows.lowerBound] : []
    }

    /// Whether row t's order holds equal returns.
    func hasTies(_ t: Int) -> Bool {
        sortedRows.contains(t) ? tied[t - sortedRows.lowerBound] : false
    }
}

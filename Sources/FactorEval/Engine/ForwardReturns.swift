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
    /// `positions[(t − sortedRows.lowerBound) · instruments + i]`: instrument i's place in row t's order (−1 without a return).
    let positions: [Int32]
    /// For sorted rows with equal returns: per position, the bounds of its run of equal returns (see `ReturnRanking`).
    let tieBounds: [Int: [Int32]]

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
        var positions = [Int32](repeating: -1, count: clipped.count * n)
        var tieBounds: [Int: [Int32]] = [:]
        sorted.reserveCapacity(clipped.count)
        for (row, t) in clipped.enumerated() {
            var order: [Int32] = []
            order.reserveCapacity(n)
            for i in 0..<n where values[i * length + t].isFinite { order.append(Int32(i)) }
            order.sort { values[Int($0) * length + t] < values[Int($1) * length + t] }
            for (k, i) in order.enumerated() { positions[row * n + Int(i)] = Int32(k) }
            var hasTie = false
            for k in order.indices.dropFirst() where values[Int(order[k]) * length + t] == values[Int(order[k - 1]) * length + t] {
                hasTie = true
                break
            }
            if hasTie {
                // Per position: where its run of equal returns starts and ends (half-open), interleaved.
                var bounds = [Int32](repeating: 0, count: 2 * order.count)
                var k = 0
                while k < order.count {
                    let v = values[Int(order[k]) * length + t]
                    var j = k + 1
                    while j < order.count && values[Int(order[j]) * length + t] == v { j += 1 }
                    for m in k..<j { bounds[2 * m] = Int32(k); bounds[2 * m + 1] = Int32(j) }
                    k = j
                }
                tieBounds[row] = bounds
            }
            sorted.append(order)
            tied.append(hasTie)
        }
        self.sorted = sorted
        self.tied = tied
        self.positions = positions
        self.tieBounds = tieBounds
    }

    /// Row t's ranking, for a Rank IC over any subset of its instruments (nil outside the sorted rows).
    func ranking(_ t: Int) -> ReturnRanking? {
        guard sortedRows.contains(t) else { return nil }
        let row = t - sortedRows.lowerBound
        return ReturnRanking(positions: positions, offset: row * instruments, count: sorted[row].count, tieBounds: tieBounds[row])
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

/// One row's returns in ascending order, as places: a Rank IC over a subset reads each member's place and counts the
/// subset's places below it, so the subset needs no sort and no scan of the whole row.
struct ReturnRanking {
    let positions: [Int32]
    let offset: Int
    /// Instruments with a finite return on the row.
    let count: Int
    /// `[2p]`, `[2p+1]`: the half-open range of places holding the same return as place p; nil when all differ.
    let tieBounds: [Int32]?

    @inline(__always)
    func position(_ i: Int32) -> Int { Int(positions[offset + Int(i)]) }
}

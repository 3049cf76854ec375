import FactorCore

/// Forward returns of one horizon and delay, computed once per universe and shared by every factor.
public struct ForwardReturns: Sendable {
    public let horizon: Int
    public let delay: Int
    public let length: Int
    /// `byRow[t * instruments + i] = c[i, t+d+h] / c[i, t+d] − 1` (NaN when either close is missing or past the
    /// data), row-major so that a row's cross-section — what every per-row figure reads — is contiguous.
    let byRow: [Double]
    let instruments: Int

    /// Returns for `horizon` with `delay`.
    public init(universe: EvaluationUniverse, horizon: Int, delay: Int) {
        let length = universe.calendar.count
        let n = universe.instruments.count
        var byRow = [Double](repeating: .nan, count: n * length)
        universe.close.values.withUnsafeBufferPointer { close in
            for i in 0..<n {
                let base = i * length
                var t = 0
                while t + delay + horizon < length {
                    let r = close[base + t + delay + horizon] / close[base + t + delay] - 1
                    byRow[t * n + i] = r.isFinite ? r : .nan
                    t += 1
                }
            }
        }
        self.init(byRow: byRow, instruments: n, length: length, horizon: horizon, delay: delay)
    }

    /// A custom label (an expression's values, instrument-major) used in place of the forward return;
    /// `horizon` only sets the Newey-West lag (h − 1).
    public init(label: Panel, horizon: Int) {
        let n = label.instrumentCount, length = label.length
        var byRow = [Double](repeating: .nan, count: n * length)
        for i in 0..<n {
            for t in 0..<length {
                let v = label.values[i * length + t]
                if v.isFinite { byRow[t * n + i] = v }
            }
        }
        self.init(byRow: byRow, instruments: n, length: length, horizon: horizon, delay: 0)
    }

    private init(byRow: [Double], instruments: Int, length: Int, horizon: Int, delay: Int) {
        self.byRow = byRow
        self.instruments = instruments
        self.length = length
        self.horizon = horizon
        self.delay = delay
    }

    @inline(__always)
    public func value(_ i: Int, _ t: Int) -> Double { byRow[t * instruments + i] }
}

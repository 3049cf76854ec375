/// A dense matrix of `Double` over instruments × calendar rows; `NaN` means missing.
///
/// Storage is instrument-major: each instrument's series is contiguous, so time-series kernels stream memory.
public struct Panel: Sendable, Equatable {
    /// Number of instruments (matrix rows).
    public let instrumentCount: Int
    /// Number of calendar rows (matrix columns).
    public let length: Int
    /// `values[i * length + t]` is instrument i at calendar row t.
    public var values: [Double]

    /// A panel filled with `value` (NaN by default).
    public init(instrumentCount: Int, length: Int, value: Double = .nan) {
        self.instrumentCount = instrumentCount
        self.length = length
        self.values = [Double](repeating: value, count: instrumentCount * length)
    }

    /// A panel over existing storage; `values.count` must equal `instrumentCount * length`.
    public init(instrumentCount: Int, length: Int, values: [Double]) {
        precondition(values.count == instrumentCount * length, "panel storage size mismatch")
        self.instrumentCount = instrumentCount
        self.length = length
        self.values = values
    }

    @inlinable
    public subscript(instrument: Int, row: Int) -> Double {
        get { values[instrument * length + row] }
        set { values[instrument * length + row] = newValue }
    }

    /// One instrument's series.
    public func series(_ instrument: Int) -> ArraySlice<Double> {
        values[(instrument * length)..<((instrument + 1) * length)]
    }

    /// The columns `range` of every instrument, as a new panel.
    public func slicingRows(_ range: Range<Int>) -> Panel {
        var out = [Double]()
        out.reserveCapacity(instrumentCount * range.count)
        for i in 0..<instrumentCount {
            out.append(contentsOf: values[(i * length + range.lowerBound)..<(i * length + range.upperBound)])
        }
        return Panel(instrumentCount: instrumentCount, length: range.count, values: out)
    }

    /// The panel restricted to the instruments `indices`, in that order.
    public func selectingInstruments(_ indices: [Int]) -> Panel {
        var out = [Double]()
        out.reserveCapacity(indices.count * length)
        for i in indices { out.append(contentsOf: values[(i * length)..<((i + 1) * length)]) }
        return Panel(instrumentCount: indices.count, length: length, values: out)
    }
}

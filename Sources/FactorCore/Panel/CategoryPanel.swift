/// A categorical field over instruments × calendar: each cell the index of its category in `names`, or −1 where the
/// instrument has none on that date (what group operators group by: industries, sectors).
public struct CategoryPanel: Sendable, Equatable {
    public var instrumentCount: Int
    public var length: Int
    /// Instrument-major, like `Panel`.
    public var codes: [Int32]
    /// The categories, in the order the codes index.
    public var names: [String]

    public init(instrumentCount: Int, length: Int, codes: [Int32], names: [String]) {
        precondition(codes.count == instrumentCount * length, "category codes of the wrong size")
        self.instrumentCount = instrumentCount
        self.length = length
        self.codes = codes
        self.names = names
    }

    @inline(__always)
    public func code(_ i: Int, _ t: Int) -> Int32 { codes[i * length + t] }

    /// The same categories restricted to the instruments at `indices`, in that order.
    public func selectingInstruments(_ indices: [Int]) -> CategoryPanel {
        var out: [Int32] = []
        out.reserveCapacity(indices.count * length)
        for i in indices { out.append(contentsOf: codes[(i * length)..<((i + 1) * length)]) }
        return CategoryPanel(instrumentCount: indices.count, length: length, codes: out, names: names)
    }
}

/// Average ranks (1-based; ties share the mean of their positions), as pandas `rank(method="average")`.
public enum Ranking {
    /// Ranks of `values` (which must not contain NaN), written to `ranks`, using `scratch` for the sort order.
    public static func averageRanks(_ values: UnsafeBufferPointer<Double>, into ranks: UnsafeMutableBufferPointer<Double>,
                                    scratch order: inout [Int32]) {
        let n = values.count
        order.removeAll(keepingCapacity: true)
        for i in 0..<n { order.append(Int32(i)) }
        order.sort { values[Int($0)] < values[Int($1)] }
        var i = 0
        while i < n {
            var j = i + 1
            let v = values[Int(order[i])]
            while j < n && values[Int(order[j])] == v { j += 1 }
            let rank = Double(i + 1 + j) / 2  // mean of positions i+1 … j
            for k in i..<j { ranks[Int(order[k])] = rank }
            i = j
        }
    }

    /// Convenience form returning a new array.
    public static func averageRanks(_ values: [Double]) -> [Double] {
        var ranks = [Double](repeating: 0, count: values.count)
        var order: [Int32] = []
        values.withUnsafeBufferPointer { v in
            ranks.withUnsafeMutableBufferPointer { r in averageRanks(v, into: r, scratch: &order) }
        }
        return ranks
    }
}

/// Quantile group edges and membership, exactly as the spec and the reference define them.
///
/// Edges are numpy's default (`linear`) quantiles of the row's sorted factor values at q = j/Q; group k holds
/// (e_{k−1}, e_k], group 1 also e_0 — `searchsorted(e[1..<Q], f, side: left) + 1`. Equal edges leave groups empty.
public enum QuantileEdges {
    /// numpy `quantile(sorted, q, method="linear")`: v = (n−1)·q, i = ⌊v⌋, g = v − i, a/b the i-th/(i+1)-th values,
    /// a + (b−a)·g when g < 0.5, else b − (b−a)·(1−g) (numpy's `_lerp`).
    @inline(__always)
    public static func quantile(sorted: UnsafeBufferPointer<Double>, _ q: Double) -> Double {
        let n = sorted.count
        let v = Double(n - 1) * q
        var i = Int(v.rounded(.down))
        if i >= n - 1 { return sorted[n - 1] }
        if i < 0 { i = 0 }
        let g = v - Double(i)
        let a = sorted[i], b = sorted[i + 1]
        let d = b - a
        return g < 0.5 ? a + d * g : b - d * (1 - g)
    }

    /// The inner edges e_1 … e_{Q−1} of `sorted` (ascending) values.
    public static func innerEdges(sorted: UnsafeBufferPointer<Double>, groups q: Int, into edges: inout [Double]) {
        edges.removeAll(keepingCapacity: true)
        for j in 1..<q { edges.append(quantile(sorted: sorted, Double(j) / Double(q))) }
    }

    /// 1-based group of value f given the inner edges: one more than the number of edges strictly below f.
    @inline(__always)
    public static func group(of f: Double, innerEdges edges: [Double]) -> Int {
        var g = 1
        for e in edges where e < f { g += 1 }
        return g
    }
}

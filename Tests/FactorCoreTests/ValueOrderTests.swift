import FactorCore
import Foundation
import Testing

/// The cross-section sort against the order it promises: a stable sort by value (−0.0 and +0.0 equal).
@Suite("ValueOrder sorts like a stable comparison sort")
struct ValueOrderTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    /// Rows that exercise each path: tiny rows (insertion sort), spread values (three passes and a short fix-up),
    /// values crowded into a range of 1e-12 (the fix-up gives up: full radix), integers with many ties, signed zeros
    /// and infinities.
    static func rows() -> [[Double]] {
        var g = Generator(state: 42)
        var rows: [[Double]] = []
        for n in [1, 2, 7, 24, 25, 300, 1000] {
            rows.append((0..<n).map { _ in (g.next() - 0.5) * 0.06 })
            rows.append((0..<n).map { _ in 1 + (g.next() - 0.5) * 1e-12 })
            rows.append((0..<n).map { _ in Double(Int(g.next() * 7)) - 3 })
            rows.append((0..<n).map { k in [0.0, -0.0, 1e-300, -1e300, .infinity, -.infinity][k % 6] * (g.next() < 0.5 ? 1 : 2) })
            rows.append((0..<n).map { _ in exp((g.next() - 0.5) * 40) * (g.next() < 0.5 ? -1 : 1) })
        }
        rows.append(Array(repeating: 3.5, count: 400))
        return rows
    }

    @Test func matchesAStableSortByValue() {
        let order = ValueOrder(capacity: 16)
        for row in Self.rows() {
            order.removeAll()
            for (k, v) in row.enumerated() { order.append(v, Int32(k)) }
            order.sort()
            let expected = row.indices.sorted { row[$0] < row[$1] || (row[$0] == row[$1] && $0 < $1) }.map { Int32($0) }
            #expect(Array(order.sortedTags) == expected, "row of \(row.count) starting \(row.prefix(3))")
            for k in row.indices { #expect(order.value(k) == row[Int(order.sortedTags[k])]) }
        }
    }
}

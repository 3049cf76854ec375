import FactorCore

/// A node's result while a plan runs: values over instruments × rows, defined on each instrument's span
/// (NaN outside it).
struct SeriesPanel {
    var values: [Double]
    var spans: [Range<Int>]
    let length: Int
}

/// A node's result: a number, or a panel.
enum NodeValue {
    case constant(Double)
    case series(SeriesPanel)
}

extension Range where Bound == Int {
    /// The smallest range holding both (pandas aligns two series on the union of their rows).
    func hull(_ other: Range<Int>) -> Range<Int> {
        if isEmpty { return other }
        if other.isEmpty { return self }
        return Swift.min(lowerBound, other.lowerBound)..<Swift.max(upperBound, other.upperBound)
    }
}

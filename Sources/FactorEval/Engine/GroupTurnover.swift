/// Turnover of one extreme quantile group from row to row: the share of today's group that was not in it on the
/// previous row (NaN on the first row, or when either row's group is empty).
final class GroupTurnover {
    /// Per instrument: in the previous row's group.
    private let wasIn: UnsafeMutablePointer<Bool>
    private var previous: UnsafeMutablePointer<Int32>
    private var current: UnsafeMutablePointer<Int32>
    private var previousCount = 0

    init(instruments: Int, widest: Int) {
        wasIn = .allocate(capacity: max(1, instruments))
        wasIn.initialize(repeating: false, count: max(1, instruments))
        previous = .allocate(capacity: max(1, widest))
        current = .allocate(capacity: max(1, widest))
    }

    deinit { wasIn.deallocate(); previous.deallocate(); current.deallocate() }

    /// Today's group of `count` instruments, `instrumentOf(k)` the k-th.
    func next(first: Bool, count: Int, instrumentOf: (Int) -> Int32) -> Double {
        var entered = 0
        for k in 0..<count {
            let i = instrumentOf(k)
            current[k] = i
            if !wasIn[Int(i)] { entered += 1 }
        }
        let value = first || count == 0 || previousCount == 0 ? Double.nan : Double(entered) / Double(count)
        for k in 0..<previousCount { wasIn[Int(previous[k])] = false }
        for k in 0..<count { wasIn[Int(current[k])] = true }
        swap(&previous, &current)
        previousCount = count
        return value
    }
}

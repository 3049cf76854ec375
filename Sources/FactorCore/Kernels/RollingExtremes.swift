/// Rolling max / min and their positions over one series, O(n) with monotonic deques.
public enum RollingExtremes {
    /// Max (`largest == true`) or min of the valid values in each window; NaN when the window has none.
    public static func extreme(_ x: UnsafeBufferPointer<Double>, window: Int, largest: Bool,
                               into out: UnsafeMutableBufferPointer<Double>) {
        let n = x.count
        guard n > 0 else { return }
        var deque = IndexDeque(capacity: min(n, window == Int.max ? n : window) + 1)
        for t in 0..<n {
            let lo = window == Int.max ? 0 : t - window + 1
            while let f = deque.front, f < lo { deque.popFront() }
            let v = x[t]
            if !v.isNaN {
                while let b = deque.back, largest ? x[b] <= v : x[b] >= v { deque.popBack() }
                deque.pushBack(t)
            }
            out[t] = deque.front.map { x[$0] } ?? .nan
        }
    }

    /// 1-based position, counted from the oldest row of the (possibly short) window, of the max / min; ties take
    /// the oldest. A NaN inside a window that has a valid value counts as the extreme (numpy's argmax, which Qlib
    /// applies to the raw window); a window without a valid value gives NaN.
    public static func position(_ x: UnsafeBufferPointer<Double>, window: Int, largest: Bool,
                                into out: UnsafeMutableBufferPointer<Double>) {
        let n = x.count
        guard n > 0 else { return }
        let cap = min(n, window == Int.max ? n : window) + 1
        var deque = IndexDeque(capacity: cap)
        var nans = IndexDeque(capacity: cap)
        for t in 0..<n {
            let lo = window == Int.max ? 0 : max(0, t - window + 1)
            while let f = deque.front, f < lo { deque.popFront() }
            while let f = nans.front, f < lo { nans.popFront() }
            let v = x[t]
            if v.isNaN {
                nans.pushBack(t)
            } else {
                // Strict comparison keeps the older of equal values at the front.
                while let b = deque.back, largest ? x[b] < v : x[b] > v { deque.popBack() }
                deque.pushBack(t)
            }
            guard let best = deque.front else { out[t] = .nan; continue }
            let pick = nans.front ?? best
            out[t] = Double(pick - lo + 1)
        }
    }
}

/// A fixed-capacity ring buffer of indices used as a deque (power-of-two capacity, masked indices).
struct IndexDeque: ~Copyable {
    private let storage: UnsafeMutablePointer<Int>
    private let mask: Int
    private var head = 0
    private var size = 0

    init(capacity: Int) {
        var c = 1
        while c < capacity { c <<= 1 }
        storage = .allocate(capacity: c)
        mask = c - 1
    }

    deinit { storage.deallocate() }

    var isEmpty: Bool { size == 0 }
    var front: Int? { size == 0 ? nil : storage[head] }
    var back: Int? { size == 0 ? nil : storage[(head + size - 1) & mask] }

    mutating func pushBack(_ v: Int) {
        storage[(head + size) & mask] = v
        size += 1
    }

    mutating func popFront() {
        head = (head + 1) & mask
        size -= 1
    }

    mutating func popBack() { size -= 1 }
}

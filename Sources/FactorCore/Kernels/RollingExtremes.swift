/// Rolling max / min and their positions over one series, O(n) with monotonic deques.
public enum RollingExtremes {
    /// Max (`largest == true`) or min of the valid values in each window; NaN when the window has none.
    ///
    /// van Herk / Gil-Werman: prefix and suffix extremes within blocks of `window` rows give every window's
    /// extreme from two lookups, about three comparisons per row and no unpredictable branches.
    public static func extreme(_ x: UnsafeBufferPointer<Double>, window: Int, largest: Bool,
                               into out: UnsafeMutableBufferPointer<Double>) {
        if largest {
            blocked(x, window, out) { a, b in (a > b || b != b) ? a : b }
        } else {
            blocked(x, window, out) { a, b in (a < b || b != b) ? a : b }
        }
    }

    @inline(__always)
    private static func blocked(_ x: UnsafeBufferPointer<Double>, _ window: Int, _ out: UnsafeMutableBufferPointer<Double>,
                                _ pick: (Double, Double) -> Double) {
        let n = x.count
        guard n > 0, let xs = x.baseAddress, let prefix = out.baseAddress else { return }
        // `out` holds the prefix extremes; `suffix` the suffix extremes of each block.
        var blockStart = 0
        let w = min(max(1, window), n)
        while blockStart < n {
            let blockEnd = min(n, blockStart + w)
            var m = xs[blockStart]
            prefix[blockStart] = m
            var i = blockStart + 1
            while i < blockEnd { m = pick(xs[i], m); prefix[i] = m; i += 1 }
            blockStart = blockEnd
        }
        if w >= n { return }  // one block: the prefix extremes are the answer (expanding or long windows)
        let suffix = UnsafeMutablePointer<Double>.allocate(capacity: n)
        defer { suffix.deallocate() }
        blockStart = 0
        while blockStart < n {
            let blockEnd = min(n, blockStart + w)
            var m = xs[blockEnd - 1]
            suffix[blockEnd - 1] = m
            var i = blockEnd - 2
            while i >= blockStart { m = pick(xs[i], m); suffix[i] = m; i -= 1 }
            blockStart = blockEnd
        }
        // Rows t ≥ w: window [t−w+1, t] = suffix of one block + prefix of the next. Written back to front so that
        // each prefix value is read before it is replaced.
        var t = n - 1
        while t >= w {
            out[t] = pick(suffix[t - w + 1], prefix[t])
            t -= 1
        }
    }

    /// 1-based position, counted from the oldest row of the (possibly short) window, of the max / min; ties take
    /// the oldest. A NaN inside a window that has a valid value counts as the extreme (numpy's argmax, which Qlib
    /// applies to the raw window); a window without a valid value gives NaN.
    ///
    /// Block prefix/suffix arg-extremes as in `extreme`, plus the next NaN at or after each row and a running
    /// count of valid values.
    public static func position(_ x: UnsafeBufferPointer<Double>, window: Int, largest: Bool,
                                into out: UnsafeMutableBufferPointer<Double>) {
        if largest {
            blockedPosition(x, window, out) { $0 > $1 }
        } else {
            blockedPosition(x, window, out) { $0 < $1 }
        }
    }

    @inline(__always)
    private static func blockedPosition(_ x: UnsafeBufferPointer<Double>, _ window: Int,
                                        _ out: UnsafeMutableBufferPointer<Double>,
                                        _ better: (Double, Double) -> Bool) {
        let n = x.count
        guard n > 0, let xs = x.baseAddress else { return }
        let w = min(max(1, window), n)
        let prefix = UnsafeMutablePointer<Int>.allocate(capacity: n)
        let suffix = UnsafeMutablePointer<Int>.allocate(capacity: n)
        let nextNaN = UnsafeMutablePointer<Int>.allocate(capacity: n)
        let validBefore = UnsafeMutablePointer<Int>.allocate(capacity: n + 1)
        defer { prefix.deallocate(); suffix.deallocate(); nextNaN.deallocate(); validBefore.deallocate() }
        // The index of the better of two rows, NaN never better; `newer` loses ties (the oldest wins).
        @inline(__always) func pick(older: Int, newer: Int) -> Int {
            let a = xs[older], b = xs[newer]
            if a.isNaN { return newer }
            if b.isNaN { return older }
            return better(b, a) ? newer : older
        }
        validBefore[0] = 0
        for i in 0..<n { validBefore[i + 1] = validBefore[i] + (xs[i].isNaN ? 0 : 1) }
        var next = n
        var i = n - 1
        while i >= 0 { if xs[i].isNaN { next = i }; nextNaN[i] = next; i -= 1 }
        var blockStart = 0
        while blockStart < n {
            let blockEnd = min(n, blockStart + w)
            var m = blockStart
            prefix[blockStart] = m
            var j = blockStart + 1
            while j < blockEnd { m = pick(older: m, newer: j); prefix[j] = m; j += 1 }
            m = blockEnd - 1
            suffix[m] = m
            j = blockEnd - 2
            while j >= blockStart { m = pick(older: j, newer: m); suffix[j] = m; j -= 1 }
            blockStart = blockEnd
        }
        for t in 0..<n {
            let lo = t >= w ? t - w + 1 : 0
            if validBefore[t + 1] - validBefore[lo] == 0 { out[t] = .nan; continue }
            let nan = nextNaN[lo]
            let best = nan <= t ? nan : (t >= w ? pick(older: suffix[lo], newer: prefix[t]) : prefix[t])
            out[t] = Double(best - lo + 1)
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

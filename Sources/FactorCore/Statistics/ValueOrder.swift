/// Sorts (value, tag) pairs by value with a stable least-significant-digit radix sort on the values' bit patterns:
/// the per-row sort of a cross-section (a few hundred to a few thousand names) without comparisons or branches.
///
/// The order is exactly that of a stable comparison sort with `<` on finite values: −0.0 and +0.0 are one key (they
/// compare equal), and equal values keep their input order. Values must not be NaN. One instance per thread; its
/// buffers grow to the largest input and are reused.
public final class ValueOrder {
    @usableFromInline var keys: UnsafeMutablePointer<UInt64>
    @usableFromInline var tags: UnsafeMutablePointer<Int32>
    private var spareKeys: UnsafeMutablePointer<UInt64>
    private var spareTags: UnsafeMutablePointer<Int32>
    @usableFromInline var capacity: Int
    private let counts: UnsafeMutablePointer<Int>
    @usableFromInline var used = 0
    /// Pairs added since the last `removeAll`.
    public var count: Int { used }

    public init(capacity: Int = 512) {
        self.capacity = max(16, capacity)
        keys = .allocate(capacity: self.capacity)
        tags = .allocate(capacity: self.capacity)
        spareKeys = .allocate(capacity: self.capacity)
        spareTags = .allocate(capacity: self.capacity)
        counts = .allocate(capacity: 8 * 256)
    }

    deinit {
        keys.deallocate(); tags.deallocate(); spareKeys.deallocate(); spareTags.deallocate(); counts.deallocate()
    }

    @inlinable
    public func removeAll() { used = 0 }

    /// Adds a pair; `value` must not be NaN.
    @inlinable
    public func append(_ value: Double, _ tag: Int32) {
        if used == capacity { grow() }
        keys[used] = Self.key(value)
        tags[used] = tag
        used += 1
    }

    /// The sorted values, valid until the next change.
    @inlinable
    public func value(_ k: Int) -> Double { Self.value(keys[k]) }

    /// The tags in ascending order of their values, valid until the next change.
    @inlinable
    public var sortedTags: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(start: tags, count: count) }

    /// Sorts the pairs added so far.
    ///
    /// Three radix passes order the keys by their 24 highest bits that differ somewhere in the row (sign, exponent
    /// and the top of the mantissa), which leaves only values within about 1e-7 of each other unordered; an insertion
    /// pass then puts those in order. A row where that pass has much to do (values crowded into a narrow range) gets
    /// a full radix sort instead, on every byte that is not the same for all keys.
    public func sort() {
        let n = count
        if n < 2 { return }
        if n <= 24 {
            insertionSort()
            return
        }
        var orAll: UInt64 = 0, andAll: UInt64 = ~0
        for k in 0..<n { orAll |= keys[k]; andAll &= keys[k] }
        let varying = orAll ^ andAll
        if varying == 0 { return }  // all equal: input order
        let low = max(0, 63 - varying.leadingZeroBitCount - 23)
        radixPasses(bytes: 3, from: low)
        if varying & ((1 << UInt64(low)) &- 1) != 0 && !insertionSort(budget: 8 * n) {
            radixPasses(bytes: 8, from: 0)
        }
    }

    /// Stable LSD radix passes over `bytes` bytes of the keys starting at bit `low`, skipping bytes that every key
    /// shares.
    private func radixPasses(bytes: Int, from low: Int) {
        let n = count
        var from = keys, fromTags = tags, to = spareKeys, toTags = spareTags
        let counts = self.counts
        counts.initialize(repeating: 0, count: bytes * 256)
        let lowShift = UInt64(low)
        for k in 0..<n {
            let key = from[k] >> lowShift
            for byte in 0..<bytes { counts[byte << 8 | Int(truncatingIfNeeded: key >> UInt64(byte << 3)) & 0xFF] &+= 1 }
        }
        for byte in 0..<bytes {
            let histogram = counts + byte << 8
            let shift = lowShift + UInt64(byte << 3)
            if shift >= 64 { break }
            if histogram[Int(truncatingIfNeeded: from[0] >> shift) & 0xFF] == n { continue }  // every key has this byte
            var sum = 0
            for b in 0..<256 {
                let c = histogram[b]
                histogram[b] = sum
                sum &+= c
            }
            for k in 0..<n {
                let key = from[k]
                let b = Int(truncatingIfNeeded: key >> shift) & 0xFF
                let at = histogram[b]
                histogram[b] = at &+ 1
                to[at] = key
                toTags[at] = fromTags[k]
            }
            swap(&from, &to)
            swap(&fromTags, &toTags)
        }
        keys = from; tags = fromTags; spareKeys = to; spareTags = toTags
    }

    /// Stable insertion sort of the current order; false (order unfinished, equal keys still in input order) when it
    /// would move elements more than `budget` places in all.
    private func insertionSort(budget: Int) -> Bool {
        let keys = self.keys, tags = self.tags
        var left = budget
        for k in 1..<count {
            let key = keys[k], tag = tags[k]
            var j = k
            while j > 0 && keys[j - 1] > key {
                keys[j] = keys[j - 1]
                tags[j] = tags[j - 1]
                j -= 1
            }
            keys[j] = key
            tags[j] = tag
            left -= k - j
            if left < 0 { return false }
        }
        return true
    }

    private func insertionSort() {
        let keys = self.keys, tags = self.tags
        for k in 1..<count {
            let key = keys[k], tag = tags[k]
            var j = k
            while j > 0 && keys[j - 1] > key {
                keys[j] = keys[j - 1]
                tags[j] = tags[j - 1]
                j -= 1
            }
            keys[j] = key
            tags[j] = tag
        }
    }

    @usableFromInline
    func grow() {
        let bigger = capacity * 2
        func moved<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
            let q = UnsafeMutablePointer<T>.allocate(capacity: bigger)
            q.moveInitialize(from: p, count: count)
            p.deallocate()
            return q
        }
        keys = moved(keys)
        tags = moved(tags)
        spareKeys.deallocate(); spareTags.deallocate()
        spareKeys = .allocate(capacity: bigger)
        spareTags = .allocate(capacity: bigger)
        capacity = bigger
    }

    /// An unsigned key in the order of the doubles: negative values flipped entirely, positive ones by the sign bit;
    /// −0.0 maps to +0.0's key.
    @inlinable
    static func key(_ v: Double) -> UInt64 {
        let bits = (v == 0 ? 0.0 : v).bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    @inlinable
    static func value(_ key: UInt64) -> Double {
        Double(bitPattern: key & (1 << 63) != 0 ? key & ~(1 << 63) : ~key)
    }
}

/// For every return series at once, the integer sums a Rank IC needs over one row's sample: the sample's size, Σx²
/// and Σxy, with x twice a member's average factor rank among the sample and y twice its return rank (as stored per
/// slot, 0 for a member without a return, who is not in the sample).
///
/// The members arrive in ascending factor order, so a member's x is known from how many of the series' sample came
/// before it; tied factor values share the average of their places. Series are handled sixteen at a time in vector
/// lanes (4 × SIMD4): one load of a member's record serves all of them.
enum SampleRankSums {
    /// Series per vector block; a slot's record holds `blocks × lanes` ranks.
    static let lanes = 16

    /// Fills `size`, `squares` and `products` (one entry per series, `seriesCount` of them) for the sorted members
    /// `sortedSlot` (local slots, whose records start at `records`, `blocks × lanes` ranks each) with factor ranks
    /// `sortedRank` (equal ranks mark ties).
    static func accumulate(records: UnsafePointer<Int32>, blocks: Int, seriesCount: Int,
                           sortedSlot: UnsafePointer<Int32>, sortedRank: UnsafePointer<Int32>, count n: Int,
                           size: UnsafeMutablePointer<Int>, squares: UnsafeMutablePointer<Int>, products: UnsafeMutablePointer<Int>) {
        let stride = blocks * lanes
        // Σxy in 32-bit lanes between flushes to 64-bit: a singleton adds at most (2n + 2)(2n + 1).
        let perFlush = Int(Int32.max) / max(1, (2 * n + 2) * (2 * n + 1))
        guard perFlush > 0 else {
            wide(records: records, stride: stride, seriesCount: seriesCount, sortedSlot: sortedSlot, sortedRank: sortedRank,
                 count: n, size: size, squares: squares, products: products)
            return
        }
        for block in 0..<blocks {
            let raw = UnsafeRawPointer(records + block * lanes)
            var s0 = SIMD4<Int32>.zero, s1 = s0, s2 = s0, s3 = s0
            var p0 = SIMD4<Int32>.zero, p1 = p0, p2 = p0, p3 = p0
            var h0 = SIMD4<Int64>.zero, h1 = h0, h2 = h0, h3 = h0
            var c0 = SIMD4<Int64>.zero, c1 = c0, c2 = c0, c3 = c0
            let one = SIMD4<Int32>(repeating: 1)
            @inline(__always) func flush() {
                h0 &+= SIMD4<Int64>(truncatingIfNeeded: p0); h1 &+= SIMD4<Int64>(truncatingIfNeeded: p1)
                h2 &+= SIMD4<Int64>(truncatingIfNeeded: p2); h3 &+= SIMD4<Int64>(truncatingIfNeeded: p3)
                p0 = .zero; p1 = .zero; p2 = .zero; p3 = .zero
            }
            @inline(__always) func ranks(_ k: Int) -> (SIMD4<Int32>, SIMD4<Int32>, SIMD4<Int32>, SIMD4<Int32>) {
                let offset = Int(sortedSlot[k]) * stride * 4
                return (raw.loadUnaligned(fromByteOffset: offset, as: SIMD4<Int32>.self),
                        raw.loadUnaligned(fromByteOffset: offset + 16, as: SIMD4<Int32>.self),
                        raw.loadUnaligned(fromByteOffset: offset + 32, as: SIMD4<Int32>.self),
                        raw.loadUnaligned(fromByteOffset: offset + 48, as: SIMD4<Int32>.self))
            }
            /// A tie group's members and Σy in each lane: x = 2q + c + 1 for its c members of the sample after q, and
            /// Σx² gains c·x² less what the closed form at the end counts for places q…q+c−1.
            @inline(__always) func group(_ s: inout SIMD4<Int32>, _ h: inout SIMD4<Int64>, _ c: inout SIMD4<Int64>,
                                         members m: SIMD4<Int32>, sum u: SIMD4<Int64>) {
                let q = SIMD4<Int64>(truncatingIfNeeded: s), count = SIMD4<Int64>(truncatingIfNeeded: m)
                let x = q &* 2 &+ count &+ 1
                h &+= x &* u
                c &+= count &* x &* x &- (evenSquares(q &+ count) &- evenSquares(q))
                s &+= m
            }
            var sinceFlush = 0
            var k = 0
            while k < n {
                if k + 1 == n || sortedRank[k + 1] != sortedRank[k] {
                    // No other member has this factor value: x = 2q + 2 where it is in the sample.
                    let (y0, y1, y2, y3) = ranks(k)
                    p0 &+= (s0 &* 2 &+ 2) &* y0; s0 &+= pointwiseMin(y0, one)
                    p1 &+= (s1 &* 2 &+ 2) &* y1; s1 &+= pointwiseMin(y1, one)
                    p2 &+= (s2 &* 2 &+ 2) &* y2; s2 &+= pointwiseMin(y2, one)
                    p3 &+= (s3 &* 2 &+ 2) &* y3; s3 &+= pointwiseMin(y3, one)
                    k += 1
                    sinceFlush += 1
                    if sinceFlush >= perFlush { flush(); sinceFlush = 0 }
                    continue
                }
                var j = k + 1
                while j < n && sortedRank[j] == sortedRank[k] { j += 1 }
                var m0 = SIMD4<Int32>.zero, m1 = m0, m2 = m0, m3 = m0
                var u0 = SIMD4<Int64>.zero, u1 = u0, u2 = u0, u3 = u0
                for m in k..<j {
                    let (y0, y1, y2, y3) = ranks(m)
                    m0 &+= pointwiseMin(y0, one); u0 &+= SIMD4<Int64>(truncatingIfNeeded: y0)
                    m1 &+= pointwiseMin(y1, one); u1 &+= SIMD4<Int64>(truncatingIfNeeded: y1)
                    m2 &+= pointwiseMin(y2, one); u2 &+= SIMD4<Int64>(truncatingIfNeeded: y2)
                    m3 &+= pointwiseMin(y3, one); u3 &+= SIMD4<Int64>(truncatingIfNeeded: y3)
                }
                group(&s0, &h0, &c0, members: m0, sum: u0)
                group(&s1, &h1, &c1, members: m1, sum: u1)
                group(&s2, &h2, &c2, members: m2, sum: u2)
                group(&s3, &h3, &c3, members: m3, sum: u3)
                k = j
            }
            flush()
            @inline(__always) func emit(_ first: Int, _ s: SIMD4<Int32>, _ h: SIMD4<Int64>, _ c: SIMD4<Int64>) {
                let all = evenSquares(SIMD4<Int64>(truncatingIfNeeded: s)) &+ c
                for lane in 0..<4 where first + lane < seriesCount {
                    size[first + lane] = Int(s[lane])
                    products[first + lane] = Int(h[lane])
                    squares[first + lane] = Int(all[lane])
                }
            }
            emit(block * lanes, s0, h0, c0)
            emit(block * lanes + 4, s1, h1, c1)
            emit(block * lanes + 8, s2, h2, c2)
            emit(block * lanes + 12, s3, h3, c3)
        }
    }

    /// The same sums one series at a time in 64-bit integers, for rows of more than 23,000 members (where one product
    /// does not fit the lanes' 32 bits).
    static func wide(records: UnsafePointer<Int32>, stride: Int, seriesCount: Int, sortedSlot: UnsafePointer<Int32>,
                     sortedRank: UnsafePointer<Int32>, count n: Int,
                     size: UnsafeMutablePointer<Int>, squares: UnsafeMutablePointer<Int>, products: UnsafeMutablePointer<Int>) {
        for series in 0..<seriesCount {
            var q = 0, xx = 0, xy = 0, k = 0
            while k < n {
                var j = k + 1
                while j < n && sortedRank[j] == sortedRank[k] { j += 1 }
                var members = 0, sum = 0
                for m in k..<j {
                    let y = Int(records[Int(sortedSlot[m]) * stride + series])
                    if y != 0 { members += 1; sum += y }
                }
                let x = 2 * q + members + 1
                xx += members * x * x
                xy += x * sum
                q += members
                k = j
            }
            size[series] = q
            squares[series] = xx
            products[series] = xy
        }
    }

    /// Σ_{i=0}^{q−1} (2i + 2)² = 2q(q + 1)(2q + 1)/3: Σx² of q sample members without ties.
    @inline(__always)
    static func evenSquares(_ q: SIMD4<Int64>) -> SIMD4<Int64> {
        (q &* (q &+ 1) &* (q &* 2 &+ 1) / 3) &* 2
    }
}

/// Exact text → `Double` conversion for CSV cells: the result always equals `Double(text)`.
///
/// The fast path is Clinger's: a decimal with at most 19 significant digits whose mantissa fits in 53 bits and
/// whose power of ten is at most 22 in magnitude is one correctly rounded IEEE multiplication or division of
/// two exactly representable numbers. Anything else (long mantissas, large exponents, `nan`, `inf`) goes to
/// the standard library's `Double(_:)`.
enum DecimalParser {
    @usableFromInline
    static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Parses `count` bytes at `p`; nil when they are not a number. Empty text is not handled here.
    @inline(__always)
    static func parse(_ p: UnsafePointer<UInt8>, _ count: Int) -> Double? {
        var i = 0
        var negative = false
        let first = p[0]
        if first == 45 || first == 43 {  // - +
            negative = first == 45
            i = 1
        }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var sawDigit = false
        var exact = true
        while i < count {
            let d = p[i] &- 48
            if d > 9 { break }
            sawDigit = true
            if mantissa != 0 || d != 0 {
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    significant += 1
                } else {
                    exact = false
                    exponent += 1
                }
            }
            i += 1
        }
        if i < count && p[i] == 46 {  // .
            i += 1
            while i < count {
                let d = p[i] &- 48
                if d > 9 { break }
                sawDigit = true
                if mantissa != 0 || d != 0 {
                    if significant < 19 {
                        mantissa = mantissa &* 10 &+ UInt64(d)
                        significant += 1
                        exponent -= 1
                    } else {
                        exact = false
                    }
                } else {
                    exponent -= 1
                }
                i += 1
            }
        }
        if i < count && (p[i] == 101 || p[i] == 69) && sawDigit {  // e E
            i += 1
            var expNegative = false
            if i < count && (p[i] == 45 || p[i] == 43) {
                expNegative = p[i] == 45
                i += 1
            }
            var value = 0
            var expDigits = 0
            while i < count {
                let d = p[i] &- 48
                if d > 9 { break }
                if value < 100_000 { value = value * 10 + Int(d) }
                expDigits += 1
                i += 1
            }
            if expDigits == 0 { return slow(p, count) }
            exponent += expNegative ? -value : value
        }
        guard i == count, sawDigit, exact else { return slow(p, count) }
        if mantissa == 0 { return negative ? -0.0 : 0.0 }
        if mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            var v = Double(mantissa)
            if exponent < 0 { v /= powersOfTen[-exponent] } else if exponent > 0 { v *= powersOfTen[exponent] }
            return negative ? -v : v
        }
        return slow(p, count)
    }

    /// The standard library's parse (correctly rounded; also reads nan, inf, infinity, hex floats).
    @inline(never)
    static func slow(_ p: UnsafePointer<UInt8>, _ count: Int) -> Double? {
        let text = String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
        if let v = Double(text) { return v }
        switch text.lowercased() {
        case "na", "n/a", "null", "none", "-nan", "+nan": return .nan
        default: return nil
        }
    }

    /// Parses a string (for tests and small files).
    static func parse(_ text: String) -> Double? {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return nil }
        return bytes.withUnsafeMutableBufferPointer { b in
            guard let base = b.baseAddress else { return nil }
            return parse(UnsafePointer(base), b.count)
        }
    }
}

/// Little helpers to write and read the cache file's header: integers, strings and raw arrays.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ value: Int64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ text: String) {
        let utf8 = Array(text.utf8)
        append(Int64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func append(_ values: [Int64]) {
        append(Int64(values.count))
        for v in values { append(v) }
    }

    mutating func appendRaw(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }
}

/// Reads what `ByteWriter` wrote; every read is bounds-checked and returns nil past the end.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { position == bytes.count }

    mutating func int64() -> Int64? {
        guard position + 8 <= bytes.count else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return Int64(bitPattern: v)
    }

    mutating func uint64() -> UInt64? { int64().map { UInt64(bitPattern: $0) } }

    mutating func uint32() -> UInt32? {
        guard position + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return v
    }

    /// A count that must be plausible for the bytes left (guards against corrupt lengths).
    mutating func count(elementSize: Int = 1) -> Int? {
        guard let n = int64(), n >= 0, n <= Int64((bytes.count - position) / max(1, elementSize)) else { return nil }
        return Int(n)
    }

    mutating func string() -> String? {
        guard let n = count() else { return nil }
        let s = String(decoding: bytes[position..<(position + n)], as: UTF8.self)
        position += n
        return s
    }

    mutating func int64Array() -> [Int64]? {
        guard let n = count(elementSize: 8) else { return nil }
        var out: [Int64] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            guard let v = int64() else { return nil }
            out.append(v)
        }
        return out
    }

    mutating func raw(_ n: Int) -> [UInt8]? {
        guard n >= 0, position + n <= bytes.count else { return nil }
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }
}

/// Checksums for the cache file.
enum Checksum {
    /// FNV-1a, 64 bit, over bytes (header, file names).
    static func fnv1a<C: Sequence>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// A fast 4-lane multiplicative checksum over the bit patterns of doubles, chained through `seed`.
    static func words(_ values: UnsafeBufferPointer<Double>, seed: UInt64) -> UInt64 {
        let prime: UInt64 = 0x9E37_79B9_7F4A_7C15
        var a = seed, b = seed ^ 0x1234_5678, c = seed ^ 0x8765_4321, d = seed &+ 1
        let n = values.count
        var i = 0
        while i + 4 <= n {
            a = (a ^ values[i].bitPattern) &* prime
            b = (b ^ values[i + 1].bitPattern) &* prime
            c = (c ^ values[i + 2].bitPattern) &* prime
            d = (d ^ values[i + 3].bitPattern) &* prime
            i += 4
        }
        while i < n {
            a = (a ^ values[i].bitPattern) &* prime
            i += 1
        }
        return (a ^ (b >> 7) ^ (c << 11) ^ (d >> 19)) &+ UInt64(n)
    }
}

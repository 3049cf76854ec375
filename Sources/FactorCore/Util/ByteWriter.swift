import Glibc

/// A growable byte buffer for writing text and binary files without a `String` or an array check per value.
///
/// One owner at a time: it may be handed to another thread (a chunk formatted on a worker, written by the
/// consumer), never shared.
public final class ByteWriter: @unchecked Sendable {
    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @usableFromInline var capacity: Int
    @usableFromInline var used = 0

    public init(capacity: Int = 1 << 16) {
        self.capacity = max(64, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// Bytes written so far.
    public var count: Int { used }

    public func removeAll() { used = 0 }

    @inlinable
    public func reserve(_ extra: Int) {
        if used + extra > capacity { grow(extra) }
    }

    @usableFromInline
    func grow(_ extra: Int) {
        let newCapacity = max(capacity * 2, used + extra)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        bigger.update(from: base, count: used)
        base.deallocate()
        base = bigger
        capacity = newCapacity
    }

    @inlinable
    public func append(_ byte: UInt8) {
        reserve(1)
        base[used] = byte
        used += 1
    }

    @inlinable
    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    @inlinable
    public func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count)
        if let from = bytes.baseAddress { (base + used).update(from: from, count: bytes.count) }
        used += bytes.count
    }

    public func append(_ text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    /// The shortest text that reads back as `value` (Swift's `description`: `1e-05`, `0.1`, `123.0`); NaN and
    /// infinities are the caller's to spell, as formats differ.
    @inlinable
    public func appendShortest(_ value: Double) {
        guard ByteWriter.runtimeFormatterAgrees else {
            append(value.description)
            return
        }
        // The runtime's contract (`_Float64ToASCII`): a buffer of at least 32 bytes, pre-filled with "0", which it
        // relies on for the zeros it does not write.
        reserve(32)
        (base + used).initialize(repeating: UInt8(ascii: "0"), count: 32)
        used += Int(_swiftFloat64ToString(base + used, 32, value, false))
    }

    /// Whether the runtime entry point still writes what `description` does, checked once per process on values
    /// that exercise its forms; if a toolchain changes it, formatting falls back to `description`.
    @usableFromInline static let runtimeFormatterAgrees: Bool = {
        let probes: [Double] = [0, -0.0, 1, 0.1, -2.5, 100, 1e-5, 0.0001, 1e16, 123456789.125, .leastNonzeroMagnitude, 1.7976931348623157e308,
                                0.008723231172089759]
        var buffer = [UInt8](repeating: 0, count: 32)
        return probes.allSatisfy { v in
            for k in buffer.indices { buffer[k] = UInt8(ascii: "0") }
            let n = buffer.withUnsafeMutableBufferPointer { Int(_swiftFloat64ToString($0.baseAddress!, 32, v, false)) }
            return n > 0 && n <= 32 && String(decoding: buffer[..<n], as: UTF8.self) == v.description
        }
    }()

    /// A little-endian fixed-width integer.
    @inlinable
    public func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        UnsafeMutableRawPointer(base + used).storeBytes(of: value.littleEndian, as: T.self)
        used += MemoryLayout<T>.size
    }

    /// A Double's 8 IEEE 754 bytes, little-endian.
    @inlinable
    public func appendLittleEndian(_ value: Double) { appendLittleEndian(value.bitPattern) }

    /// The raw bytes of trivial values (little-endian on the platforms Swift runs FactorLab on).
    public func appendRaw<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>) {
        let raw = UnsafeRawBufferPointer(values)
        append(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
    }

    /// The written bytes, valid during the call.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: used))
    }

    /// A copy of the written bytes.
    public var bytes: [UInt8] { withBytes { Array($0) } }

    /// Writes everything to a file descriptor, retrying short writes; false with `errno` set on failure.
    public func write(to fd: Int32) -> Bool {
        var offset = 0
        while offset < used {
            let n = Glibc.write(fd, base + offset, used - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }
}

// The Swift runtime's shortest round-trip formatter behind `Double.description`, called into our own buffer so
// that formatting a value allocates nothing.
@usableFromInline @_silgen_name("swift_float64ToString")
func _swiftFloat64ToString(_ buffer: UnsafeMutablePointer<UInt8>, _ bufferLength: UInt, _ value: Double, _ debug: Bool) -> UInt64

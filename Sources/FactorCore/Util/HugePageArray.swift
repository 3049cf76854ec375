#if canImport(Glibc)
import Glibc
#endif

/// Large arrays of doubles whose pages the kernel may back with 2 MB huge pages: one page fault per 2 MB instead of
/// one per 4 kB, which is most of what filling a freshly allocated panel costs.
public enum HugePageArray {
    /// Below this, the array is made the ordinary way (the advice only pays off over several huge pages).
    public static let threshold = 4 << 20

    /// An array of `count` doubles, each set by `initialize` before it is read (it receives the uninitialised buffer
    /// and must write every element).
    public static func make(count: Int, _ initialize: (UnsafeMutableBufferPointer<Double>) -> Void) -> [Double] {
        [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count * MemoryLayout<Double>.stride >= threshold { adviseHugePages(UnsafeMutableRawBufferPointer(buffer)) }
            initialize(buffer)
            initialized = count
        }
    }

    /// Asks for huge pages over the 2 MB-aligned interior of `region` (not yet touched); a no-op where unsupported.
    public static func adviseHugePages(_ region: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        guard let base = region.baseAddress else { return }
        let huge = 2 << 20
        let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
        let end = (Int(bitPattern: base) + region.count) & ~(huge - 1)
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, end - start, MADV_HUGEPAGE)
        #endif
    }
}

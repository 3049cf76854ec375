import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A raw pointer shared by the iterations of a parallel loop that write disjoint elements.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// A read-only raw pointer shared across a parallel loop.
struct SharedReadPointer<T>: @unchecked Sendable {
    let base: UnsafePointer<T>
}

/// Runs loop bodies across cores.
public enum Parallel {
    /// Online processors, or `FACTOR_THREADS` when set.
    public static var defaultThreads: Int {
        if let text = getenv("FACTOR_THREADS"), let n = Int(String(cString: text)), n > 0 { return n }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Calls `body(i)` for i in 0..<count on up to `threads` threads, in contiguous chunks.
    static func forEach(_ count: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
        if count == 0 { return }
        if threads <= 1 || count < 2 {
            body(0..<count)
            return
        }
        let chunks = min(count, threads * 4)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}

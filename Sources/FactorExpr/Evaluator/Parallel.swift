import Dispatch
import FactorCore
import Foundation
import Synchronization
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
    /// `FACTOR_THREADS` when set, else the online processors this process may run on (`taskset -c 0` means one).
    public static var defaultThreads: Int {
        if let text = getenv("FACTOR_THREADS"), let n = Int(String(cString: text)), n > 0 { return n }
        return usableProcessors
    }

    /// The affinity mask spans every possible CPU, online or not: it only ever lowers the online count.
    private static let usableProcessors: Int = {
        let online = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        guard let allowed = allowedProcessors, allowed > 0 else { return online }
        return min(online, allowed)
    }()

    /// The bits of `Cpus_allowed` in /proc/self/status (the affinity mask; Glibc's `sched_getaffinity` is not
    /// visible to Swift).
    private static var allowedProcessors: Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
        return line.dropFirst("Cpus_allowed:".count).reduce(0) { count, c in
            count + (c.hexDigitValue.map { $0.nonzeroBitCount } ?? 0)
        }
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

    /// `body(i)` for i in 0..<count on up to `threads` threads, each taking the next index as it finishes one (so
    /// uneven items balance); the results in index order.
    public static func map<T: Sendable>(_ count: Int, threads: Int, _ body: @Sendable (Int) -> T) -> [T] {
        if count == 0 { return [] }
        if threads <= 1 || count == 1 { return (0..<count).map(body) }
        let results = ResultSlots<T>(count: count)
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: min(threads, count)) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= count { break }
                results.set(i, body(i))
            }
        }
        return results.values
    }
}

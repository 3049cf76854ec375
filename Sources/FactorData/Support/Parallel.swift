import Dispatch
import Foundation

/// A pointer or value handed to `concurrentPerform` workers that write disjoint parts of it.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Runs work items in parallel on all cores and collects their results in order.
enum Parallel {
    /// `body(i)` for every `i` in `0..<count`, in parallel; results in index order.
    static func map<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
        if count == 0 { return [] }
        if count == 1 { return [body(0)] }
        let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
        slots.initialize(repeating: nil)
        defer {
            slots.deinitialize()
            slots.deallocate()
        }
        let transfer = UnsafeTransfer(slots)
        withoutActuallyEscaping(body) { work in
            let job = UnsafeTransfer(work)
            DispatchQueue.concurrentPerform(iterations: count) { i in
                transfer.value[i] = job.value(i)
            }
        }
        return slots.compactMap { $0 }
    }

    /// `body(i)` for every `i` in `0..<count`, in parallel.
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count == 0 { return }
        if count == 1 { body(0); return }
        withoutActuallyEscaping(body) { work in
            let job = UnsafeTransfer(work)
            DispatchQueue.concurrentPerform(iterations: count) { i in job.value(i) }
        }
    }
}

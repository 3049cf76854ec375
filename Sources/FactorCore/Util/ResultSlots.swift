import Synchronization

/// One result per index, written by the iterations of a parallel loop and read once it is over.
public final class ResultSlots<Value: Sendable>: Sendable {
    private let slots: Mutex<[Value?]>

    public init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    public func set(_ k: Int, _ value: Value) { slots.withLock { $0[k] = value } }

    /// Every result, in index order; each slot must have been set.
    public var values: [Value] { slots.withLock { $0.map { $0! } } }

    public func get(_ k: Int) -> Value? { slots.withLock { $0[k] } }
}

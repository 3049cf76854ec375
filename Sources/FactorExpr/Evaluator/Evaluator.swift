import Dispatch
import FactorCore
import Foundation

/// Outputs of a plan for one group of instruments.
public struct EvaluatedChunk: Sendable {
    /// Indices into the `MarketData.instruments` that was evaluated, in panel order.
    public var instruments: [Int]
    /// One panel per plan output, over `instruments` × the calendar (none when the outputs went to a reducer).
    public var panels: [Panel]
    /// The reducer the outputs went to as they were computed (`Evaluator.reduceChunks`).
    var reduced: (any OutputReducer)?

    public init(instruments: [Int], panels: [Panel]) {
        self.instruments = instruments
        self.panels = panels
    }
}

/// Takes a chunk's outputs one at a time, as soon as each is computed, while its values are still in cache; the
/// evaluator then reuses their memory instead of keeping every output until the chunk ends.
public protocol OutputReducer: AnyObject, Sendable {
    /// Output `index` (in plan order) over the chunk's instruments × calendar.
    func add(_ index: Int, _ panel: Panel)
}

/// Time spent per operator while evaluating (summed over threads).
public struct EvaluationProfile: Sendable {
    public var byOperator: [String: (seconds: Double, count: Int)] = [:]

    public init() {}

    mutating func add(_ name: String, _ seconds: Double) {
        let previous = byOperator[name] ?? (0, 0)
        byOperator[name] = (previous.seconds + seconds, previous.count + 1)
    }

    mutating func merge(_ other: EvaluationProfile) {
        for (k, v) in other.byOperator {
            let previous = byOperator[k] ?? (0, 0)
            byOperator[k] = (previous.seconds + v.seconds, previous.count + v.count)
        }
    }
}

/// Runs a compiled `Plan` over `MarketData`, node by node, reusing each intermediate buffer after its last use.
///
/// A plan without cross-sectional nodes is evaluated in chunks of instruments small enough for every node's
/// values to stay in cache, chunks in parallel; a cross-sectional plan needs every instrument at once and runs
/// its nodes in parallel across instruments (time series) or dates (cross sections) instead.
public struct Evaluator: Sendable {
    /// Threads to use (1 = single core).
    public var threads: Int
    /// Target bytes of one node's values within a chunk.
    public var chunkBytes: Int
    /// Chunks in flight per thread: more balance the threads, fewer hold less memory.
    public var waveFactor: Int

    public init(threads: Int = Parallel.defaultThreads, chunkBytes: Int = 96 * 1024, waveFactor: Int = 2) {
        self.threads = max(1, threads)
        self.chunkBytes = max(8 * 1024, chunkBytes)
        self.waveFactor = max(1, waveFactor)
    }

    /// The outputs of `plan` in order, each a panel over `data.instruments` × `data.calendar`.
    public func evaluate(_ plan: Plan, on data: MarketData) throws(ExpressionEvaluationError) -> [Panel] {
        var ignored: EvaluationProfile?
        return try evaluate(plan, on: data, profile: &ignored)
    }

    /// Evaluates and, when `profile` is non-nil, adds each operator's time to it.
    public func evaluate(_ plan: Plan, on data: MarketData, profile: inout EvaluationProfile?) throws(ExpressionEvaluationError) -> [Panel] {
        let length = data.calendar.count, n = data.instruments.count
        var outputs = plan.outputs.map { _ in [Double](repeating: .nan, count: n * length) }
        do {
            try chunks(plan, on: data, profile: &profile, splitWholeRuns: false, map: { (chunk: EvaluatedChunk, _) throws(Never) in chunk }) { (chunk: EvaluatedChunk) throws(Never) in
                for (k, panel) in chunk.panels.enumerated() {
                    for (local, i) in chunk.instruments.enumerated() {
                        outputs[k].replaceSubrange((i * length)..<((i + 1) * length), with: panel.series(local))
                    }
                }
            }
        } catch {
            switch error {
            case .evaluation(let failure): throw failure
            }
        }
        return outputs.map { Panel(instrumentCount: n, length: length, values: $0) }
    }

    /// Evaluates `plan` chunk by chunk and hands each chunk's outputs to `body`, in ascending order of instrument
    /// code. Only the chunks in flight are held in memory.
    public func forEachChunk(_ plan: Plan, on data: MarketData, profile: inout EvaluationProfile?,
                             _ body: (EvaluatedChunk) throws -> Void) throws {
        try forEachChunk(plan, on: data, profile: &profile, map: { chunk, _ in chunk }, body)
    }

    /// Like `forEachChunk`, with `map` applied to each chunk (and the data of its instruments) on the thread that
    /// evaluated it; `body` receives the mapped chunks in order on the calling thread.
    public func forEachChunk<Mapped: Sendable>(_ plan: Plan, on data: MarketData, profile: inout EvaluationProfile?,
                                               map: @escaping @Sendable (EvaluatedChunk, MarketData) throws -> Mapped,
                                               _ body: (Mapped) throws -> Void) throws {
        do {
            try chunks(plan, on: data, profile: &profile, splitWholeRuns: true, map: map, body)
        } catch {
            switch error {
            case .evaluation(let failure): throw failure
            case .consumer(let failure): throw failure
            }
        }
    }

    /// Like `forEachChunk`, but each output goes to a reducer (one per chunk, made by `make` from the chunk's data) as
    /// soon as it is computed; `body` receives the reducers in order of instrument code, on the calling thread.
    public func reduceChunks<R: OutputReducer>(_ plan: Plan, on data: MarketData, profile: inout EvaluationProfile?,
                                               make: @escaping @Sendable (MarketData) -> R, _ body: (R) throws -> Void) throws {
        do {
            try chunks(plan, on: data, profile: &profile, splitWholeRuns: false, reducer: make,
                       map: { chunk, _ in chunk.reduced as! R }, body)
        } catch {
            switch error {
            case .evaluation(let failure): throw failure
            case .consumer(let failure): throw failure
            }
        }
    }

    /// Why a chunked evaluation stopped: the plan failed, or the consumer of the chunks did (`Never` when it cannot).
    enum ChunkFailure<Consumer: Error>: Error {
        case evaluation(ExpressionEvaluationError)
        case consumer(Consumer)
    }

    /// `splitWholeRuns`: a plan evaluated over every instrument at once (cross-sectional) is still handed over in
    /// chunk-sized pieces of instruments.
    private func chunks<Mapped, Consumer: Error>(_ plan: Plan, on data: MarketData, profile: inout EvaluationProfile?,
                                                 splitWholeRuns: Bool, reducer: (@Sendable (MarketData) -> any OutputReducer)? = nil,
                                                 map: @escaping @Sendable (EvaluatedChunk, MarketData) throws(Consumer) -> Mapped,
                                                 _ body: (Mapped) throws(Consumer) -> Void) throws(ChunkFailure<Consumer>) {
        func evaluated(_ run: () throws(ExpressionEvaluationError) -> [Panel]) throws(ChunkFailure<Consumer>) -> [Panel] {
            do { return try run() } catch { throw .evaluation(error) }
        }
        func consume(_ mapped: Mapped) throws(ChunkFailure<Consumer>) {
            do { try body(mapped) } catch { throw .consumer(error) }
        }
        let order = data.instruments.indices.sorted { data.instruments[$0] < data.instruments[$1] }
        if plan.usesCrossSection || order.count <= 1 {
            var chunkProfile: EvaluationProfile? = profile == nil ? nil : EvaluationProfile()
            let whole = reducer?(data)
            let panels = try evaluated { () throws(ExpressionEvaluationError) in
                try ChunkEvaluation.run(plan, data: data, threads: threads, profile: &chunkProfile, onOutput: whole.map { r in { r.add($0, $1) } })
            }
            if let chunkProfile { profile?.merge(chunkProfile) }
            let perPiece = max(1, chunkBytes / max(1, data.calendar.count * 8))
            guard splitWholeRuns && order.count > perPiece else {
                var chunk = EvaluatedChunk(instruments: Array(data.instruments.indices), panels: panels)
                chunk.reduced = whole
                let mapped: Mapped
                do { mapped = try map(chunk, data) } catch { throw .consumer(error) }
                try consume(mapped)
                return
            }
            // Handed over in pieces of a chunk's size, so that what `map` makes of them (text, columns) stays small.
            for start in stride(from: 0, to: order.count, by: perPiece) {
                let piece = Array(order[start..<min(order.count, start + perPiece)])
                let chunk = EvaluatedChunk(instruments: piece, panels: panels.map { $0.selectingInstruments(piece) })
                let mapped: Mapped
                do { mapped = try map(chunk, data.selectingInstruments(piece)) } catch { throw .consumer(error) }
                try consume(mapped)
            }
            return
        }
        let perChunk = max(1, chunkBytes / max(1, data.calendar.count * 8))
        // The last chunks are half size when threads share the work, so that the thread finishing last waits less.
        let tail = threads > 1 && perChunk > 1 ? min(order.count, 2 * threads * perChunk) : 0
        let chunks = stride(from: 0, to: order.count - tail, by: perChunk).map { Array(order[$0..<min(order.count - tail, $0 + perChunk)]) }
            + stride(from: order.count - tail, to: order.count, by: max(1, perChunk / 2)).map { Array(order[$0..<min(order.count, $0 + max(1, perChunk / 2))]) }
        let wantProfile = profile != nil
        let pools = BufferPools(capacity: plan.outputs.count + 64)
        // Evaluates chunk k and maps it, on the calling thread or a worker.
        let produce: @Sendable (Int) -> Result<(Mapped, EvaluationProfile?), ChunkFailure<Consumer>> = { k in
            var chunkProfile: EvaluationProfile? = wantProfile ? EvaluationProfile() : nil
            let slice = data.selectingInstruments(chunks[k])
            let pool = pools.take(count: slice.instruments.count * slice.calendar.count)
            defer { pools.give(pool) }
            let reduced = reducer?(slice)
            var panels: [Panel]
            do throws(ExpressionEvaluationError) {
                panels = try ChunkEvaluation.run(plan, data: slice, threads: 1, pool: pool, profile: &chunkProfile,
                                                 onOutput: reduced.map { r in { r.add($0, $1) } })
            } catch {
                return .failure(.evaluation(error))
            }
            defer {
                // Output buffers go back to the pool once mapped: each once, and never a field's own storage. A
                // panel the mapped result kept is still safe (arrays copy on write: reusing it costs a copy).
                var given = Set(slice.fields.values.map { $0.values.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } })
                for panel in panels where given.insert(panel.values.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }).inserted {
                    pool.give(panel.values)
                }
                panels = []
            }
            do throws(Consumer) {
                var chunk = EvaluatedChunk(instruments: chunks[k], panels: panels)
                chunk.reduced = reduced
                return .success((try map(chunk, slice), chunkProfile))
            } catch {
                return .failure(.consumer(error))
            }
        }
        func deliver(_ result: Result<(Mapped, EvaluationProfile?), ChunkFailure<Consumer>>) throws(ChunkFailure<Consumer>) {
            switch result {
            case .success(let (mapped, chunkProfile)):
                if let chunkProfile { profile?.merge(chunkProfile) }
                try consume(mapped)
            case .failure(let error):
                throw error
            }
        }
        if threads == 1 || chunks.count == 1 {
            for k in chunks.indices { try deliver(produce(k)) }
            return
        }
        // Workers claim chunks in order and run at most `window` chunks ahead of the consumer, which takes them in
        // order: no barrier between waves, and memory bounded by the window. The workers run on Dispatch's global
        // pool, whose width the whole process shares (several evaluations at once do not oversubscribe the
        // cores); the consumer produces chunks itself while it waits, so it progresses even if no worker starts.
        let pipeline = OrderedPipeline<Result<(Mapped, EvaluationProfile?), ChunkFailure<Consumer>>>(
            count: chunks.count, window: threads * waveFactor)
        for _ in 0..<min(threads - 1, chunks.count) {
            DispatchQueue.global().async {
                guard pipeline.workerStarts() else { return }
                while let k = pipeline.claim() { pipeline.deliver(k, produce(k)) }
                pipeline.workerEnds()
            }
        }
        defer { pipeline.stopAndWaitForWorkers() }
        for k in chunks.indices {
            while true {
                switch pipeline.takeOrClaim(k) {
                case .result(let result): try deliver(result)
                case .claimed(let other): pipeline.deliver(other, produce(other)); continue
                }
                break
            }
        }
    }
}

/// Results produced out of order by workers and taken in order by one consumer, with at most `window` claimed
/// but not yet taken.
private final class OrderedPipeline<Output>: @unchecked Sendable {
    private let condition = NSCondition()
    private var next = 0, taken = 0, activeWorkers = 0
    private var results: [Int: Output] = [:]
    private var stopped = false
    private let count: Int, window: Int

    init(count: Int, window: Int) {
        self.count = count
        self.window = max(1, window)
    }

    /// The next index to produce, or nil when every one is claimed or the consumer stopped (workers wait while
    /// the window is full).
    func claim() -> Int? {
        condition.lock(); defer { condition.unlock() }
        while !stopped && next < count && next - taken >= window { condition.wait() }
        if stopped || next >= count { return nil }
        next += 1
        return next - 1
    }

    func deliver(_ index: Int, _ output: Output) {
        condition.lock(); results[index] = output; condition.broadcast(); condition.unlock()
    }

    enum Step {
        case result(Output)
        case claimed(Int)
    }

    /// Result `index` when it is there; else an unclaimed index for the consumer to produce itself; else waits.
    func takeOrClaim(_ index: Int) -> Step {
        condition.lock(); defer { condition.unlock() }
        while true {
            if let output = results.removeValue(forKey: index) {
                taken = index + 1
                condition.broadcast()
                return .result(output)
            }
            if next < count && (next == index || next - taken < window) {
                next += 1
                return .claimed(next - 1)
            }
            condition.wait()
        }
    }

    /// False when the run is over before the worker started (it then does nothing).
    func workerStarts() -> Bool {
        condition.lock(); defer { condition.unlock() }
        if stopped { return false }
        activeWorkers += 1
        return true
    }

    func workerEnds() {
        condition.lock(); activeWorkers -= 1; condition.broadcast(); condition.unlock()
    }

    /// Ends the run: no more claims; waits for the workers that started (those not started yet never will).
    func stopAndWaitForWorkers() {
        condition.lock(); defer { condition.unlock() }
        stopped = true
        condition.broadcast()
        while activeWorkers > 0 { condition.wait() }
    }
}

/// Evaluation of a whole plan on one `MarketData` (all its instruments at once).
enum ChunkEvaluation {
    /// With `onOutput`, each output goes there as soon as it is computed and its memory is reused after its last
    /// reader (no panel is returned); without it, every output is kept and returned.
    static func run(_ plan: Plan, data: MarketData, threads: Int, pool: BufferPool? = nil,
                    profile: inout EvaluationProfile?, onOutput: ((Int, Panel) -> Void)? = nil) throws(ExpressionEvaluationError) -> [Panel] {
        let clock = ContinuousClock()
        let context = Context(data: data, threads: threads,
                              memberMask: plan.usesCrossSection ? data.membership.denseMask() : nil,
                              pool: pool ?? BufferPool(count: data.instruments.count * data.calendar.count))
        var values = [NodeValue?](repeating: nil, count: plan.nodes.count)
        let groups = KernelGroups(plan)
        let streaming = onOutput != nil
        var outputsOf: [Int: [Int]] = [:]
        if streaming { for (o, output) in plan.outputs.enumerated() { outputsOf[output.node, default: []].append(o) } }
        /// When node `input` can be freed: after its last reader, or (outputs kept) never within the chunk.
        func lastUse(_ input: Int) -> Int { streaming ? plan.nodes[input].lastRead : plan.nodes[input].lastUse }
        /// Hands node k's outputs over, and frees it now when nothing reads it later.
        func emit(_ k: Int) {
            guard let onOutput, let outputs = outputsOf[k], let value = values[k] else { return }
            let series = context.series(value)
            let panel = Panel(instrumentCount: data.instruments.count, length: data.calendar.count, values: series.values)
            for o in outputs { onOutput(o, panel) }
            if plan.nodes[k].lastRead < k + 1 {
                if case .field = plan.nodes[k].kind {} else { context.pool.give(series.values) }
                values[k] = nil
            }
        }
        // Nodes already computed (the members of a kernel group are computed with its first one).
        var done = [Bool](repeating: false, count: plan.nodes.count)
        for (k, node) in plan.nodes.enumerated() {
            if done[k] { continue }
            let result: NodeValue
            let started = profile == nil ? nil : clock.now
            if let group = groups.members[k], let input = values[node.inputs[0]] {
                let panels = context.grouped(group.map(\.statistic), context.series(input), window: group[0].window)
                for (member, panel) in zip(group, panels) { values[member.node] = .series(panel); done[member.node] = true }
                if let started { profile?.add(node.profileName, (clock.now - started).seconds) }
                for input in node.inputs where lastUse(input) == k {
                    if case .series(let s)? = values[input], !node.isField(plan, input) { context.pool.give(s.values) }
                    values[input] = nil
                }
                for member in group { emit(member.node) }
                continue
            }
            switch node.kind {
            case .field(let name):
                guard let panel = data.fields[name] else {
                    throw .missingField(name, available: data.fieldNames)
                }
                result = .series(SeriesPanel(values: panel.values, spans: data.spans, length: data.calendar.count))
            case .constant(let v):
                result = .constant(v)
            case .otherInstrument(let code, let inner):
                result = try otherInstrument(code, inner, context)
            case .pointInTime(let inner):
                result = try pointInTime(inner, context)
            case .periodReference(let field, let period):
                result = try periodReference(field, period, context)
            case .operation(let op):
                var inputs: [NodeValue] = []
                inputs.reserveCapacity(node.inputs.count)
                for i in node.inputs {
                    if let v = values[i] { inputs.append(v) }
                }
                result = try context.apply(op, inputs)
            }
            values[k] = result
            done[k] = true
            if let started {
                profile?.add(node.profileName, (clock.now - started).seconds)
            }
            for input in node.inputs where lastUse(input) == k {
                if case .series(let s)? = values[input], !node.isField(plan, input) { context.pool.give(s.values) }
                values[input] = nil
            }
            emit(k)
        }
        if streaming { return [] }
        return plan.outputs.map { output in
            switch values[output.node] {
            case .series(let s)?:
                return Panel(instrumentCount: data.instruments.count, length: data.calendar.count, values: s.values)
            case .constant(let c)?:
                return Panel(instrumentCount: data.instruments.count, length: data.calendar.count,
                             values: context.materialize(c).values)
            case nil:
                return Panel(instrumentCount: data.instruments.count, length: data.calendar.count)
            }
        }
    }

    /// Evaluates the inner plan on one other instrument and lays its series on every instrument.
    private static func otherInstrument(_ code: String, _ inner: Plan, _ context: Context) throws(ExpressionEvaluationError) -> NodeValue {
        let data = context.data
        let length = data.calendar.count
        var fields: [String: Panel] = [:]
        let span: Range<Int>
        if let aux = data.auxiliary[code] {
            for (name, series) in aux.fields { fields[name] = Panel(instrumentCount: 1, length: length, values: series) }
            span = aux.span
        } else if let i = data.instrumentIndex(code) {
            for (name, panel) in data.fields {
                fields[name] = Panel(instrumentCount: 1, length: length, values: Array(panel.series(i)))
            }
            span = data.spans[i]
        } else {
            throw .missingInstrument(code, available: data.auxiliary.keys.sorted())
        }
        let single = MarketData(instruments: [code], calendar: data.calendar, spans: [span], fields: fields)
        var ignored: EvaluationProfile?
        let series = try run(inner, data: single, threads: 1, profile: &ignored)[0].values
        var out = [Double]()
        out.reserveCapacity(data.instruments.count * length)
        for _ in data.instruments { out.append(contentsOf: series) }
        return .series(SeriesPanel(values: out, spans: Array(repeating: span, count: data.instruments.count), length: length))
    }
}

/// Rolling nodes of one kernel family over the same input and window — median/quantile/rank, slope/R²/residual,
/// sum/mean/count/std/var — are computed in one pass that shares the window state.
struct KernelGroups {
    enum Statistic {
        case order(RollingOrderStatistics.Statistic)
        case regression(RollingRegression.Statistic)
        case moment(RollingMoments.Statistic)

        var family: Int {
            switch self {
            case .order: return 0
            case .regression: return 1
            case .moment: return 2
            }
        }
    }

    struct Member {
        var node: Int
        var statistic: Statistic
        var window: Int
    }

    /// For the first node of each group, every member in plan order (itself first).
    var members: [Int: [Member]] = [:]

    init(_ plan: Plan) {
        var byKey: [String: [Member]] = [:]
        var keys: [String] = []
        for (k, node) in plan.nodes.enumerated() {
            guard case .operation(let op) = node.kind, let member = Self.member(k, op) else { continue }
            let key = "\(member.statistic.family)/\(node.inputs[0])/\(member.window)"
            if byKey[key] == nil { keys.append(key) }
            byKey[key, default: []].append(member)
        }
        for key in keys {
            if let group = byKey[key], group.count > 1 { members[group[0].node] = group }
        }
    }

    private static func member(_ k: Int, _ op: Operation) -> Member? {
        switch op {
        case .quantile(let w, let q): return Member(node: k, statistic: .order(.quantile(q)), window: w.kernelWindow)
        case .rolling(let r, let w):
            if case .alpha = w { return nil }  // exponential means are not window moments
            let statistic: Statistic
            switch r {
            case .median: statistic = .order(.median)
            case .rank: statistic = .order(.rank)
            case .slope: statistic = .regression(.slope)
            case .rsquare: statistic = .regression(.rsquare)
            case .resi: statistic = .regression(.residual)
            case .sum: statistic = .moment(.sum)
            case .mean: statistic = .moment(.mean)
            case .count: statistic = .moment(.count)
            case .std: statistic = .moment(.std)
            case .variance: statistic = .moment(.variance)
            default: return nil
            }
            return Member(node: k, statistic: statistic, window: w.kernelWindow)
        default:
            return nil
        }
    }
}

extension Plan.Node {
    var profileName: String {
        switch kind {
        case .operation(let op): return op.name
        case .otherInstrument: return "ChangeInstrument"
        case .pointInTime: return "P"
        case .periodReference: return "PRef"
        case .field: return "$field"
        case .constant: return "constant"
        }
    }

    /// Whether node `index` of `plan` is a field (whose storage belongs to the data, not to the pool).
    func isField(_ plan: Plan, _ index: Int) -> Bool {
        if case .field = plan.nodes[index].kind { return true }
        return false
    }
}

/// Reusable value buffers of one panel size: reusing memory that is already mapped avoids a page fault per page
/// of every intermediate result. A buffer still referenced elsewhere when it is handed out is copied on its first
/// write (arrays are values), so giving one back is always safe.
final class BufferPool {
    private var free: [[Double]] = []
    let count: Int
    /// Enough for a chunk's outputs (Alpha158 has 159) and its live intermediates.
    let capacity: Int

    init(count: Int, capacity: Int = 64) {
        self.count = count
        self.capacity = capacity
    }

    /// A buffer of `count` elements with unspecified contents.
    func take() -> [Double] {
        if let b = free.popLast() { return b }
        return [Double](repeating: .nan, count: count)
    }

    func give(_ buffer: [Double]) {
        if buffer.count == count && free.count < capacity { free.append(buffer) }
    }
}

/// Buffer pools kept across the chunks of one run, one in use per evaluating thread: after the first chunks,
/// evaluation allocates no memory.
final class BufferPools: @unchecked Sendable {
    private var free: [BufferPool] = []
    private let lock = NSLock()
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func take(count: Int) -> BufferPool {
        lock.lock(); defer { lock.unlock() }
        if let k = free.firstIndex(where: { $0.count == count }) { return free.remove(at: k) }
        return BufferPool(count: count, capacity: capacity)
    }

    func give(_ pool: BufferPool) {
        lock.lock(); free.append(pool); lock.unlock()
    }
}

/// What every node computation needs: the data, the thread count, the membership mask and the buffer pool.
final class Context {
    let data: MarketData
    let threads: Int
    let memberMask: [Bool]?
    let pool: BufferPool

    init(data: MarketData, threads: Int, memberMask: [Bool]?, pool: BufferPool) {
        precondition(pool.count == data.instruments.count * data.calendar.count, "buffer pool of another size")
        self.data = data
        self.threads = threads
        self.memberMask = memberMask
        self.pool = pool
    }

    var instrumentCount: Int { data.instruments.count }
    var length: Int { data.calendar.count }

    /// A pooled buffer whose rows outside `spans` are NaN (rows inside are for the caller to fill).
    func buffer(outside spans: [Range<Int>]) -> [Double] {
        var out = pool.take()
        let length = self.length
        out.withUnsafeMutableBufferPointer { o in
            for (i, span) in spans.enumerated() {
                let base = i * length
                for t in 0..<span.lowerBound { o[base + t] = .nan }
                for t in span.upperBound..<length { o[base + t] = .nan }
            }
        }
        return out
    }

    /// A pooled buffer filled with NaN.
    func nanBuffer() -> [Double] {
        var out = pool.take()
        out.withUnsafeMutableBufferPointer { o in o.initialize(repeating: .nan) }
        return out
    }

    /// A number laid on every instrument's span.
    func materialize(_ c: Double) -> SeriesPanel {
        var values = buffer(outside: data.spans)
        for (i, span) in data.spans.enumerated() {
            for t in span { values[i * length + t] = c }
        }
        return SeriesPanel(values: values, spans: data.spans, length: length)
    }

    func series(_ v: NodeValue) -> SeriesPanel {
        switch v {
        case .series(let s): return s
        case .constant(let c): return materialize(c)
        }
    }

    func apply(_ op: Operation, _ inputs: [NodeValue]) throws(ExpressionEvaluationError) -> NodeValue {
        switch op {
        case .unary(let u): return unary(u, inputs[0])
        case .binary(let b): return binary(b, inputs[0], inputs[1])
        case .ifThenElse: return ifThenElse(inputs[0], inputs[1], inputs[2])
        case .ref(let n): return .series(shift(series(inputs[0]), by: n, difference: false))
        case .delta(let n): return .series(shift(series(inputs[0]), by: n, difference: true))
        case .rolling(let r, let w): return .series(rolling(r, w, series(inputs[0])))
        case .quantile(let w, let q):
            return .series(perInstrument(series(inputs[0])) { x, out in
                RollingOrderStatistics.compute(.quantile(q), x, window: w.kernelWindow, into: out)
            })
        case .pair(let p, let w): return .series(pair(p, w, series(inputs[0]), series(inputs[1])))
        case .crossSection(let c): return .series(crossSection(c, series(inputs[0])))
        case .group(let g, let category): return .series(try group(g, category: category, series(inputs[0])))
        case .csNeutralize: return .series(csNeutralize(series(inputs[0]), series(inputs[1])))
        case .changeInstrument, .pointInTime, .periodRef: return inputs[0]  // planned as separate node kinds
        case .resample(let r): return .series(periodResample(r, series(inputs[0])))
        case .worldQuant(let w, let d): return worldQuant(w, window: d, inputs)
        }
    }
}

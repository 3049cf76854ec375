import FactorCore

/// Runs a compiled `Plan` over `MarketData`, node by node, freeing each intermediate result after its last use.
///
/// Time-series nodes run in parallel across instruments, cross-sectional nodes across dates.
public struct Evaluator: Sendable {
    /// Threads to use (1 = single core).
    public var threads: Int

    public init(threads: Int = Parallel.defaultThreads) {
        self.threads = max(1, threads)
    }

    /// The outputs of `plan` in order, each a panel over `data.instruments` × `data.calendar`.
    public func evaluate(_ plan: Plan, on data: MarketData) throws(EvaluationError) -> [Panel] {
        let context = Context(data: data, threads: threads,
                              memberMask: plan.usesCrossSection ? data.membership.denseMask() : nil)
        var values = [NodeValue?](repeating: nil, count: plan.nodes.count)
        for (k, node) in plan.nodes.enumerated() {
            let result: NodeValue
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
            case .operation(let op):
                var inputs: [NodeValue] = []
                inputs.reserveCapacity(node.inputs.count)
                for i in node.inputs {
                    if let v = values[i] { inputs.append(v) }
                }
                result = context.apply(op, inputs)
            }
            values[k] = result
            for input in node.inputs where plan.nodes[input].lastUse == k { values[input] = nil }
        }
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
    private func otherInstrument(_ code: String, _ inner: Plan, _ context: Context) throws(EvaluationError) -> NodeValue {
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
        let series = try Evaluator(threads: 1).evaluate(inner, on: single)[0].values
        var out = [Double]()
        out.reserveCapacity(data.instruments.count * length)
        for _ in data.instruments { out.append(contentsOf: series) }
        return .series(SeriesPanel(values: out, spans: Array(repeating: span, count: data.instruments.count), length: length))
    }
}

/// What every node computation needs: the data, the thread count and the membership mask.
struct Context: Sendable {
    let data: MarketData
    let threads: Int
    let memberMask: [Bool]?

    var instrumentCount: Int { data.instruments.count }
    var length: Int { data.calendar.count }

    /// A number laid on every instrument's span.
    func materialize(_ c: Double) -> SeriesPanel {
        var values = [Double](repeating: .nan, count: instrumentCount * length)
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

    func apply(_ op: Operation, _ inputs: [NodeValue]) -> NodeValue {
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
        case .changeInstrument: return inputs[0]  // planned as a separate node kind
        }
    }
}

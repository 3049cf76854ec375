import FactorCore

/// WorldQuant-convention nodes. The windowed ones reuse Qlib's kernels and then keep a value only where the whole
/// window was valid (BRAIN's strict warm-up), converting to BRAIN's definitions (population moments, days ago).
extension Context {
    func worldQuant(_ op: WorldQuantOperator, window d: Int, _ inputs: [NodeValue]) -> NodeValue {
        switch op {
        case .sum: return .series(moments(.sum, inputs[0], d))
        case .mean: return .series(moments(.mean, inputs[0], d))
        case .stdDev: return .series(moments(.standardDeviation, inputs[0], d))
        case .product: return .series(strictRolling(.product, inputs[0], d))
        case .tsMin: return .series(strictRolling(.min, inputs[0], d))
        case .tsMax: return .series(strictRolling(.max, inputs[0], d))
        case .tsArgMax: return .series(strictRolling(.idxMax, inputs[0], d) { Double(d) - $0 })
        case .tsArgMin: return .series(strictRolling(.idxMin, inputs[0], d) { Double(d) - $0 })
        case .tsRank:
            return .series(perInstrument(series(inputs[0])) { x, out in StrictWindow.rankOfLast(x, window: d, into: out) })
        case .decayLinear:
            return .series(decayLinear(series(inputs[0]), d))
        case .correlation, .covariance:
            return .series(pairMoments(op == .correlation ? .correlation : .covariance, series(inputs[0]), series(inputs[1]), d))
        case .log:
            return unaryWorldQuant(inputs[0], WorldQuantElementWise.log)
        case .ifThenElse:
            return choose(inputs[0], inputs[1], inputs[2])
        case .power, .signedPower, .min, .max, .lt, .le, .gt, .ge, .eq, .or, .and:
            return zip(inputs[0], inputs[1]) { WorldQuantElementWise.binary(op, $0, $1) }
        }
    }

    private func moments(_ statistic: WindowMoments.Statistic, _ input: NodeValue, _ d: Int) -> SeriesPanel {
        perInstrument(series(input)) { x, out in WindowMoments.compute(statistic, x, window: d, into: out) }
    }

    private func pairMoments(_ statistic: WindowMoments.PairStatistic, _ x: SeriesPanel, _ y: SeriesPanel, _ d: Int) -> SeriesPanel {
        var spans = x.spans
        for i in 0..<spans.count { spans[i] = spans[i].hull(y.spans[i]) }
        var out = buffer(outside: spans)
        let length = self.length
        x.values.withUnsafeBufferPointer { px in
            y.values.withUnsafeBufferPointer { py in
                out.withUnsafeMutableBufferPointer { o in
                    for (i, span) in spans.enumerated() where !span.isEmpty {
                        let range = (i * length + span.lowerBound)..<(i * length + span.upperBound)
                        WindowMoments.compute(statistic, UnsafeBufferPointer(rebasing: px[range]), UnsafeBufferPointer(rebasing: py[range]),
                                              window: d, into: UnsafeMutableBufferPointer(rebasing: o[range]))
                    }
                }
            }
        }
        return SeriesPanel(values: out, spans: spans, length: length)
    }

    private func unaryWorldQuant(_ a: NodeValue, _ f: (Double) -> Double) -> NodeValue {
        switch a {
        case .constant(let c): return .constant(f(c))
        case .series(let s): return .series(map(s, f))
        }
    }

    /// A Qlib rolling statistic, kept only where all d rows of its input are finite, then `transform`ed.
    private func strictRolling(_ op: RollingOperator, _ input: NodeValue, _ d: Int,
                               _ transform: (Double) -> Double = { $0 }) -> SeriesPanel {
        let x = series(input)
        var base = rolling(op, .rows(d), x)
        strict(&base, x, d, transform)
        return base
    }

    private func strict(_ base: inout SeriesPanel, _ validity: SeriesPanel, _ d: Int, _ transform: (Double) -> Double) {
        let length = self.length
        let spans = base.spans
        validity.values.withUnsafeBufferPointer { v in
            base.values.withUnsafeMutableBufferPointer { o in
                for (i, span) in spans.enumerated() where !span.isEmpty {
                    let start = i * length + span.lowerBound
                    let out = UnsafeMutableBufferPointer(rebasing: o[start..<(start + span.count)])
                    for t in out.indices where !out[t].isNaN { out[t] = transform(out[t]) }
                    StrictWindow.mask(out, validity: UnsafeBufferPointer(rebasing: v[start..<(start + span.count)]), window: d)
                }
            }
        }
    }

    private func decayLinear(_ s: SeriesPanel, _ d: Int) -> SeriesPanel {
        var out = buffer(outside: s.spans)
        let length = self.length
        s.values.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for (i, span) in s.spans.enumerated() where !span.isEmpty {
                    let start = i * length + span.lowerBound
                    // A series that starts after the first loaded row was listed then: its earlier rows count as zeros.
                    LinearDecay.compute(UnsafeBufferPointer(rebasing: x[start..<(start + span.count)]), window: d,
                                        rowsBefore: span.lowerBound,
                                        into: UnsafeMutableBufferPointer(rebasing: o[start..<(start + span.count)]))
                }
            }
        }
        return SeriesPanel(values: out, spans: s.spans, length: length)
    }

    /// `WQIf(c, a, b)`: a where c is 1, b where c is 0, NaN otherwise.
    private func choose(_ c: NodeValue, _ a: NodeValue, _ b: NodeValue) -> NodeValue {
        func value(_ v: NodeValue, _ index: Int) -> Double {
            switch v {
            case .constant(let x): return x
            case .series(let s): return s.values[index]
            }
        }
        if case .constant(let cc) = c, case .constant(let ac) = a, case .constant(let bc) = b {
            return .constant(WorldQuantElementWise.choose(cc, ac, bc))
        }
        var spans = Array(repeating: 0..<0, count: instrumentCount)
        for v in [c, a, b] {
            if case .series(let s) = v { for i in 0..<instrumentCount { spans[i] = spans[i].hull(s.spans[i]) } }
        }
        var out = nanBuffer()
        for (i, span) in spans.enumerated() {
            let base = i * length
            for t in span {
                out[base + t] = WorldQuantElementWise.choose(value(c, base + t), value(a, base + t), value(b, base + t))
            }
        }
        return .series(SeriesPanel(values: out, spans: spans, length: length))
    }
}

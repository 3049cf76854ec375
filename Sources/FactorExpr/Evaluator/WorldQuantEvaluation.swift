import FactorCore

/// WorldQuant-convention nodes. The windowed ones reuse Qlib's kernels and then keep a value only where the whole
/// window was valid (BRAIN's strict warm-up), converting to BRAIN's definitions (population moments, days ago).
extension Context {
    func worldQuant(_ op: WorldQuantOperator, window d: Int, _ inputs: [NodeValue]) -> NodeValue {
        switch op {
        case .sum: return .series(strictRolling(.sum, inputs[0], d))
        case .mean: return .series(strictRolling(.mean, inputs[0], d))
        case .product: return .series(strictRolling(.product, inputs[0], d))
        case .tsMin: return .series(strictRolling(.min, inputs[0], d))
        case .tsMax: return .series(strictRolling(.max, inputs[0], d))
        case .stdDev:
            // Population standard deviation (ddof 0) from the sample one; a single row has none of either but 0 here.
            let factor = (Double(d - 1) / Double(d)).squareRoot()
            return .series(strictRolling(.std, inputs[0], d) { d == 1 ? 0 : $0 * factor })
        case .tsArgMax: return .series(strictRolling(.idxMax, inputs[0], d) { Double(d) - $0 })
        case .tsArgMin: return .series(strictRolling(.idxMin, inputs[0], d) { Double(d) - $0 })
        case .tsRank:
            return .series(perInstrument(series(inputs[0])) { x, out in StrictWindow.rankOfLast(x, window: d, into: out) })
        case .decayLinear:
            return .series(decayLinear(series(inputs[0]), d))
        case .correlation, .covariance:
            let x = series(inputs[0]), y = series(inputs[1])
            var base = pair(op == .correlation ? .corr : .cov, .rows(d), x, y)
            guard case .series(let validity) = zip(.series(x), .series(y), { $0 + $1 }) else { preconditionFailure("two series zip to a series") }
            if op == .correlation {
                strict(&base, validity, d) { $0.isFinite ? $0 : .nan }
            } else {
                strict(&base, validity, d) { let v = $0 * Double(d - 1) / Double(d); return v.isFinite ? v : .nan }
            }
            return .series(base)
        case .log:
            return unaryWorldQuant(inputs[0], WorldQuantElementWise.log)
        case .ifThenElse:
            return choose(inputs[0], inputs[1], inputs[2])
        case .power, .signedPower, .min, .max, .lt, .le, .gt, .ge, .eq, .or, .and:
            return zip(inputs[0], inputs[1]) { WorldQuantElementWise.binary(op, $0, $1) }
        }
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
                    // A series that starts after the first loaded row was listed then: earlier rows count as zeros.
                    LinearDecay.compute(UnsafeBufferPointer(rebasing: x[start..<(start + span.count)]), window: d,
                                        leadingRowsMissing: span.lowerBound > 0,
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

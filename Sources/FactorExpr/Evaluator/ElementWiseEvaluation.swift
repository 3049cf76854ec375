import FactorCore

/// Element-wise nodes: each output row is computed from the same row of the inputs, on the hull of their spans.
extension Context {
    func unary(_ op: UnaryOperator, _ a: NodeValue) -> NodeValue {
        guard case .series(let s) = a else {
            if case .constant(let c) = a { return .constant(ElementWise.unary(op, c)) }
            return a
        }
        switch op {
        case .abs: return .series(map(s) { Swift.abs($0) })
        case .neg: return .series(map(s) { -$0 })
        case .sign: return .series(map(s) { ElementWise.unary(.sign, $0) })
        case .log: return .series(map(s) { ElementWise.unary(.log, $0) })
        case .not: return .series(map(s) { ElementWise.unary(.not, $0) })
        }
    }

    func binary(_ op: BinaryOperator, _ a: NodeValue, _ b: NodeValue) -> NodeValue {
        switch op {
        case .add: return zip(a, b) { $0 + $1 }
        case .sub: return zip(a, b) { $0 - $1 }
        case .mul: return zip(a, b) { $0 * $1 }
        case .div: return zip(a, b) { $0 / $1 }
        case .power: return zip(a, b) { ElementWise.binary(.power, $0, $1) }
        case .greater: return zip(a, b) { ElementWise.binary(.greater, $0, $1) }
        case .less: return zip(a, b) { ElementWise.binary(.less, $0, $1) }
        case .gt: return zip(a, b) { $0 > $1 ? 1 : 0 }
        case .ge: return zip(a, b) { $0 >= $1 ? 1 : 0 }
        case .lt: return zip(a, b) { $0 < $1 ? 1 : 0 }
        case .le: return zip(a, b) { $0 <= $1 ? 1 : 0 }
        case .eq: return zip(a, b) { $0 == $1 ? 1 : 0 }
        case .ne: return zip(a, b) { $0 != $1 ? 1 : 0 }
        case .and: return zip(a, b) { $0 != 0 && $1 != 0 ? 1 : 0 }
        case .or: return zip(a, b) { $0 != 0 || $1 != 0 ? 1 : 0 }
        }
    }

    func ifThenElse(_ c: NodeValue, _ a: NodeValue, _ b: NodeValue) -> NodeValue {
        if case .constant(let cc) = c { return ElementWise.truthy(cc) ? a : b }
        let cs = series(c)
        let spans = zip3Spans(c, a, b)
        var out = nanBuffer()
        for (i, span) in spans.enumerated() {
            let base = i * length
            for t in span {
                let cond = cs.values[base + t]
                let pick = ElementWise.truthy(cond) ? a : b
                switch pick {
                case .constant(let v): out[base + t] = v
                case .series(let s): out[base + t] = s.values[base + t]
                }
            }
        }
        return .series(SeriesPanel(values: out, spans: spans, length: length))
    }

    private func zip3Spans(_ a: NodeValue, _ b: NodeValue, _ c: NodeValue) -> [Range<Int>] {
        var spans = Array(repeating: 0..<0, count: instrumentCount)
        for v in [a, b, c] {
            if case .series(let s) = v { for i in 0..<instrumentCount { spans[i] = spans[i].hull(s.spans[i]) } }
        }
        return spans
    }

    @inline(__always)
    func map(_ s: SeriesPanel, _ f: (Double) -> Double) -> SeriesPanel {
        var out = buffer(outside: s.spans)
        let length = self.length
        s.values.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                // Raw pointers and wrapping arithmetic let the optimiser vectorise the loop.
                guard let xb = x.baseAddress, let ob = o.baseAddress else { return }
                for (i, span) in s.spans.enumerated() where !span.isEmpty {
                    let start = i &* length &+ span.lowerBound
                    let xs = xb + start, os = ob + start
                    var j = 0
                    let c = span.count
                    while j < c { os[j] = f(xs[j]); j &+= 1 }
                }
            }
        }
        return SeriesPanel(values: out, spans: s.spans, length: length)
    }

    @inline(__always)
    func zip(_ a: NodeValue, _ b: NodeValue, _ f: (Double, Double) -> Double) -> NodeValue {
        switch (a, b) {
        case (.constant(let x), .constant(let y)):
            return .constant(f(x, y))
        case (.series(let s), .constant(let y)):
            return .series(map(s) { f($0, y) })
        case (.constant(let x), .series(let s)):
            return .series(map(s) { f(x, $0) })
        case (.series(let s), .series(let r)):
            var spans = s.spans
            for i in 0..<spans.count { spans[i] = spans[i].hull(r.spans[i]) }
            var out = buffer(outside: spans)
            let length = self.length
            s.values.withUnsafeBufferPointer { x in
                r.values.withUnsafeBufferPointer { y in
                    out.withUnsafeMutableBufferPointer { o in
                        guard let xb = x.baseAddress, let yb = y.baseAddress, let ob = o.baseAddress else { return }
                        for (i, span) in spans.enumerated() where !span.isEmpty {
                            let start = i &* length &+ span.lowerBound
                            let xs = xb + start, ys = yb + start, os = ob + start
                            var j = 0
                            let c = span.count
                            while j < c { os[j] = f(xs[j], ys[j]); j &+= 1 }
                        }
                    }
                }
            }
            return .series(SeriesPanel(values: out, spans: spans, length: length))
        }
    }
}

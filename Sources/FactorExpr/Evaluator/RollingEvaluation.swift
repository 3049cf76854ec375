import FactorCore

/// Time-series nodes: each instrument's span is one series, processed by a FactorCore kernel, instruments in
/// parallel.
extension Context {
    func rolling(_ op: RollingOperator, _ window: Window, _ s: SeriesPanel) -> SeriesPanel {
        let w = window.kernelWindow
        switch op {
        case .mean:
            if case .alpha(let a) = window {
                return perInstrument(s) { x, out in ExponentialMean.compute(x, alpha: a, into: out) }
            }
            return perInstrument(s) { x, out in RollingMoments.compute(.mean, x, window: w, into: out) }
        case .sum: return perInstrument(s) { x, out in RollingMoments.compute(.sum, x, window: w, into: out) }
        case .count: return perInstrument(s) { x, out in RollingMoments.compute(.count, x, window: w, into: out) }
        case .std: return perInstrument(s) { x, out in RollingMoments.compute(.std, x, window: w, into: out) }
        case .variance: return perInstrument(s) { x, out in RollingMoments.compute(.variance, x, window: w, into: out) }
        case .skew: return perInstrument(s) { x, out in RollingHigherMoments.compute(.skewness, x, window: w, into: out) }
        case .kurt: return perInstrument(s) { x, out in RollingHigherMoments.compute(.kurtosis, x, window: w, into: out) }
        case .mad: return perInstrument(s) { x, out in RollingMeanAbsoluteDeviation.compute(x, window: w, into: out) }
        case .wma: return perInstrument(s) { x, out in RollingWeightedMean.compute(x, window: w, into: out) }
        case .product: return perInstrument(s) { x, out in RollingProduct.compute(x, window: w, into: out) }
        case .max: return perInstrument(s) { x, out in RollingExtremes.extreme(x, window: w, largest: true, into: out) }
        case .min: return perInstrument(s) { x, out in RollingExtremes.extreme(x, window: w, largest: false, into: out) }
        case .idxMax: return perInstrument(s) { x, out in RollingExtremes.position(x, window: w, largest: true, into: out) }
        case .idxMin: return perInstrument(s) { x, out in RollingExtremes.position(x, window: w, largest: false, into: out) }
        case .median: return perInstrument(s) { x, out in RollingOrderStatistics.compute(.median, x, window: w, into: out) }
        case .rank: return perInstrument(s) { x, out in RollingOrderStatistics.compute(.rank, x, window: w, into: out) }
        case .slope: return perInstrument(s) { x, out in RollingRegression.compute(.slope, x, window: w, into: out) }
        case .rsquare: return perInstrument(s) { x, out in RollingRegression.compute(.rsquare, x, window: w, into: out) }
        case .resi: return perInstrument(s) { x, out in RollingRegression.compute(.residual, x, window: w, into: out) }
        case .ema:
            let alpha: Double
            switch window {
            case .rows(let n): alpha = 2 / (Double(n) + 1)
            case .alpha(let a): alpha = a
            case .expanding: alpha = 1  // rejected by the checker
            }
            return perInstrument(s) { x, out in ExponentialMean.compute(x, alpha: alpha, into: out) }
        }
    }

    func pair(_ op: PairOperator, _ window: Window, _ a: SeriesPanel, _ b: SeriesPanel) -> SeriesPanel {
        var spans = a.spans
        for i in 0..<spans.count { spans[i] = spans[i].hull(b.spans[i]) }
        let statistic: RollingPair.Statistic = op == .corr ? .correlation : .covariance
        let w = window.kernelWindow
        var out = buffer(outside: spans)
        let length = self.length
        a.values.withUnsafeBufferPointer { xa in
            b.values.withUnsafeBufferPointer { xb in
                out.withUnsafeMutableBufferPointer { o in
                    let pa = SharedReadPointer(base: xa.baseAddress!), pb = SharedReadPointer(base: xb.baseAddress!)
                    let po = SharedPointer(base: o.baseAddress!)
                    let spansCopy = spans
                    Parallel.forEach(spans.count, threads: threads) { range in
                        for i in range {
                            let span = spansCopy[i]
                            if span.isEmpty { continue }
                            let start = i * length + span.lowerBound
                            RollingPair.compute(statistic,
                                                UnsafeBufferPointer(start: pa.base + start, count: span.count),
                                                UnsafeBufferPointer(start: pb.base + start, count: span.count),
                                                window: w,
                                                into: UnsafeMutableBufferPointer(start: po.base + start, count: span.count))
                        }
                    }
                }
            }
        }
        return SeriesPanel(values: out, spans: spans, length: length)
    }

    /// `Ref` (x N rows earlier; later for N < 0) or `Delta` (x minus that), within each instrument's span.
    func shift(_ s: SeriesPanel, by n: Int, difference: Bool) -> SeriesPanel {
        var out = buffer(outside: s.spans)
        let length = self.length
        s.values.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for (i, span) in s.spans.enumerated() {
                    let base = i * length
                    for t in span {
                        // Delta(x, 0) is Qlib's expanding form: x minus the instrument's first value.
                        let source = difference && n == 0 ? span.lowerBound : t - n
                        if source < span.lowerBound || source >= span.upperBound {
                            o[base + t] = .nan
                        } else {
                            o[base + t] = difference ? x[base + t] - x[base + source] : x[base + source]
                        }
                    }
                }
            }
        }
        return SeriesPanel(values: out, spans: s.spans, length: length)
    }

    /// `TResample`: each row gets the aggregate of its instrument's rows in the previous calendar period.
    func periodResample(_ r: PeriodResample, _ s: SeriesPanel) -> SeriesPanel {
        let groups = r.groups(data.calendar.times)
        var out = buffer(outside: s.spans)
        let length = self.length
        s.values.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                guard let xBase = x.baseAddress, let oBase = o.baseAddress else { return }
                for (i, span) in s.spans.enumerated() where !span.isEmpty {
                    r.apply(xBase + i * length, span: span, groups: groups, into: oBase + i * length)
                }
            }
        }
        return SeriesPanel(values: out, spans: s.spans, length: length)
    }

    /// Several statistics of one kernel family over one series and window, from one shared pass per instrument.
    func grouped(_ statistics: [KernelGroups.Statistic], _ s: SeriesPanel, window: Int) -> [SeriesPanel] {
        let length = self.length, count = s.values.count, k = statistics.count
        let spans = s.spans
        // One scratch block holds every statistic's panel while the kernels write into it.
        let block = UnsafeMutablePointer<Double>.allocate(capacity: count * k)
        defer { block.deallocate() }
        block.initialize(repeating: .nan, count: count * k)
        let shared = SharedPointer(base: block)
        s.values.withUnsafeBufferPointer { x in
            let px = SharedReadPointer(base: x.baseAddress!)
            Parallel.forEach(spans.count, threads: threads) { range in
                for i in range {
                    let span = spans[i]
                    if span.isEmpty { continue }
                    let start = i * length + span.lowerBound
                    let x = UnsafeBufferPointer(start: px.base + start, count: span.count)
                    let outs = (0..<k).map { shared.base + $0 * count + start }
                    switch statistics[0] {
                    case .order:
                        let stats = statistics.compactMap { if case .order(let s) = $0 { return s } else { return nil } }
                        RollingOrderStatistics.compute(stats, x, window: window,
                                                       into: outs.map { UnsafeMutableBufferPointer(start: $0, count: span.count) })
                    case .regression:
                        let stats = statistics.compactMap { if case .regression(let s) = $0 { return s } else { return nil } }
                        RollingRegression.compute(stats, x, window: window, into: outs)
                    case .moment:
                        let stats = statistics.compactMap { if case .moment(let s) = $0 { return s } else { return nil } }
                        RollingMoments.compute(stats, x, window: window, into: outs)
                    }
                }
            }
        }
        return (0..<k).map { j in
            var out = pool.take()
            out.withUnsafeMutableBufferPointer { o in o.baseAddress!.update(from: block + j * count, count: count) }
            return SeriesPanel(values: out, spans: spans, length: length)
        }
    }

    /// Runs a one-series kernel over every instrument's span, in parallel.
    func perInstrument(_ s: SeriesPanel,
                       _ kernel: @escaping @Sendable (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void) -> SeriesPanel {
        var out = buffer(outside: s.spans)
        let length = self.length
        let spans = s.spans
        s.values.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                let px = SharedReadPointer(base: x.baseAddress!), po = SharedPointer(base: o.baseAddress!)
                Parallel.forEach(spans.count, threads: threads) { range in
                    for i in range {
                        let span = spans[i]
                        if span.isEmpty { continue }
                        let start = i * length + span.lowerBound
                        kernel(UnsafeBufferPointer(start: px.base + start, count: span.count),
                               UnsafeMutableBufferPointer(start: po.base + start, count: span.count))
                    }
                }
            }
        }
        return SeriesPanel(values: out, spans: s.spans, length: length)
    }
}

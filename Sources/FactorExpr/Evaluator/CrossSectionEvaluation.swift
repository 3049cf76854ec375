import FactorCore

/// Cross-sectional nodes: on each date, over the instruments that are universe members on it and inside
/// their span. Non-members get NaN.
extension Context {
    func crossSection(_ op: CrossSectionOperator, _ s: SeriesPanel) -> SeriesPanel {
        let transform: CrossSection.Transform
        switch op {
        case .rank: transform = .rank
        case .zscore: transform = .zscore
        case .demean: transform = .demean
        case .scale: transform = .scale
        }
        let n = instrumentCount, length = self.length
        let mask = memberMask ?? [Bool](repeating: true, count: n * length)
        var out = nanBuffer()
        let spans = s.spans
        s.values.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                let px = SharedReadPointer(base: x.baseAddress!), po = SharedPointer(base: o.baseAddress!)
                Parallel.forEach(length, threads: threads) { columns in
                    var scratch = CrossSection.Scratch()
                    var rowValues: [Double] = []
                    var members: [Int] = []
                    for t in columns {
                        rowValues.removeAll(keepingCapacity: true)
                        members.removeAll(keepingCapacity: true)
                        for i in 0..<n where mask[i * length + t] && spans[i].contains(t) {
                            members.append(i)
                            rowValues.append(px.base[i * length + t])
                        }
                        if members.isEmpty { continue }
                        CrossSection.apply(transform, &rowValues, scratch: &scratch)
                        for (k, i) in members.enumerated() { po.base[i * length + t] = rowValues[k] }
                    }
                }
            }
        }
        return SeriesPanel(values: out, spans: spans, length: length)
    }
}

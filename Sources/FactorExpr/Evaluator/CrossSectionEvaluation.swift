import FactorCore

/// Cross-sectional nodes: on each date, over the instruments that are universe members on it and inside
/// their span. Non-members get NaN.
extension Context {
    func crossSection(_ op: CrossSectionOperator, _ s: SeriesPanel) -> SeriesPanel {
        let transform: CrossSection.Transform
        switch op {
        case .rank: transform = .rank
        case .unitRank: transform = .unitRank
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

    /// `GroupRank(x, $industry)` and its kin: on each date, the members with a group, transformed within their group.
    func group(_ op: GroupOperator, category: String, _ s: SeriesPanel) throws(ExpressionEvaluationError) -> SeriesPanel {
        guard let groups = data.categories[category] else { throw .missingCategory(category) }
        let transform: CrossSection.Transform
        switch op {
        case .rank: transform = .rank
        case .zscore: transform = .zscore
        case .demean, .neutralize: transform = .demean  // OLS on a full set of group dummies fits each group's mean
        case .indNeutralize: transform = .plainDemean
        }
        return rowWise(s.spans, [s]) { row, members, t, scratch in
            let codes = members.map { groups.code($0, t) }
            CrossSection.applyGrouped(transform, &row[0], groups: codes, scratch: &scratch)
            return row[0]
        }
    }

    /// `CSNeutralize(x, y)`: on each date, the residual of x on y across the members.
    func csNeutralize(_ x: SeriesPanel, _ y: SeriesPanel) -> SeriesPanel {
        let spans = (0..<instrumentCount).map { x.spans[$0].hull(y.spans[$0]) }
        return rowWise(spans, [x, y]) { row, _, _, _ in CrossSection.residual(row[0], on: row[1]) }
    }

    /// Runs `transform` on every date over the members inside `spans`, reading each input's values of those members;
    /// dates in parallel.
    private func rowWise(_ spans: [Range<Int>], _ inputs: [SeriesPanel],
                         _ transform: @Sendable (inout [[Double]], [Int], Int, inout CrossSection.Scratch) -> [Double]) -> SeriesPanel {
        let n = instrumentCount, length = self.length
        let mask = memberMask ?? [Bool](repeating: true, count: n * length)
        var out = nanBuffer()
        let sources = inputs.map { $0.values }
        out.withUnsafeMutableBufferPointer { o in
            let po = SharedPointer(base: o.baseAddress!)
            Parallel.forEach(length, threads: threads) { columns in
                var scratch = CrossSection.Scratch()
                var members: [Int] = []
                var rows = [[Double]](repeating: [], count: sources.count)
                for t in columns {
                    members.removeAll(keepingCapacity: true)
                    for i in 0..<n where mask[i * length + t] && spans[i].contains(t) { members.append(i) }
                    if members.isEmpty { continue }
                    for (k, source) in sources.enumerated() { rows[k] = members.map { source[$0 * length + t] } }
                    let values = transform(&rows, members, t, &scratch)
                    for (k, i) in members.enumerated() { po.base[i * length + t] = values[k] }
                }
            }
        }
        return SeriesPanel(values: out, spans: spans, length: length)
    }
}

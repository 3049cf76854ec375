import FactorCore
import FactorExpr

/// Factor values for scoring, laid out by slot (see `MemberRows`): each evaluated row's member values contiguous.
///
/// Storage is raw and owned by this object, so that factor panels streaming out of the expression evaluator can be
/// scattered into it from several threads (chunks hold disjoint instruments, hence disjoint slots) and reused from
/// one batch of factors to the next.
final class SlotValues: @unchecked Sendable {
    let values: UnsafeMutableBufferPointer<Double>

    init(slots: Int) {
        values = .allocate(capacity: max(1, slots))
        values.initialize(repeating: .nan)
    }

    deinit { values.deallocate() }

    /// A whole panel (instrument-major over the calendar), its member cells placed by slot.
    convenience init(_ panel: [Double], rows: MemberRows, length: Int) {
        self.init(slots: rows.instruments.count)
        panel.withUnsafeBufferPointer { rows.place(series: $0, instruments: 0..<(panel.count / max(1, length)), length: length, into: values) }
    }
}

extension MemberRows {
    /// Places the member cells of instruments `instruments` (whose series, each `length` rows, lie one after the other
    /// in `series`) at their slots in `out`. Each series is read in order.
    func place<S: Sequence<Int>>(series: UnsafeBufferPointer<Double>, instruments: S, length: Int,
                                 into out: UnsafeMutableBufferPointer<Double>) {
        let rowCount = window.count, first = window.lowerBound
        slotOf.withUnsafeBufferPointer { slotOf in
            for (local, i) in instruments.enumerated() {
                let values = series.baseAddress! + local * length + first, slots = slotOf.baseAddress! + i * rowCount
                for row in 0..<rowCount where slots[row] >= 0 { out[Int(slots[row])] = values[row] }
            }
        }
    }
}

extension FactorEvaluator {
    /// Scatters an evaluated chunk's outputs into one `SlotValues` per output (the chunk's instruments only).
    func place(_ chunk: EvaluatedChunk, into outputs: [SlotValues]) {
        let length = universe.calendar.count
        for (k, panel) in chunk.panels.enumerated() {
            panel.values.withUnsafeBufferPointer { rows.place(series: $0, instruments: chunk.instruments, length: length, into: outputs[k].values) }
        }
    }
}

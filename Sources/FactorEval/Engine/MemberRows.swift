/// The universe's members on each evaluated row, flattened: a row's members are consecutive "slots", ascending by
/// instrument index. Everything computed per member (return ranks, a factor's row) is laid out by slot.
struct MemberRows: Sendable {
    let window: Range<Int>
    /// The instrument of every slot, row after row.
    let instruments: [Int32]
    /// `offsets[t − window.lowerBound] ..< offsets[t − window.lowerBound + 1]`: the slots of row t.
    let offsets: [Int]
    /// The most members on one row.
    let widest: Int
    /// `slotOf[i * window.count + row]`: instrument i's slot on window row `row`, or −1 when it is not a member.
    let slotOf: [Int32]

    init(_ universe: EvaluationUniverse) {
        window = universe.window
        var instruments: [Int32] = []
        var offsets = [0]
        var widest = 0
        let length = universe.calendar.count, rowCount = universe.window.count
        var slotOf = [Int32](repeating: -1, count: universe.instruments.count * rowCount)
        universe.member.withUnsafeBufferPointer { member in
            for t in universe.window {
                let before = instruments.count
                for i in 0..<universe.instruments.count where member[i * length + t] {
                    slotOf[i * rowCount + t - universe.window.lowerBound] = Int32(instruments.count)
                    instruments.append(Int32(i))
                }
                offsets.append(instruments.count)
                widest = max(widest, instruments.count - before)
            }
        }
        self.instruments = instruments
        self.offsets = offsets
        self.widest = widest
        self.slotOf = slotOf
    }

    /// The slots of row t (a window row).
    @inline(__always)
    func slots(_ t: Int) -> Range<Int> {
        let row = t - window.lowerBound
        return offsets[row]..<offsets[row + 1]
    }
}

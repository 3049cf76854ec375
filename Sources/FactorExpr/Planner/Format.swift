/// Number formatting shared by canonical text and messages.
enum Format {
    /// Integers without a fraction (`5`), others in Swift's shortest round-trip form (`0.8`, `1e-12`).
    static func number(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v == v.rounded(), abs(v) < 1e15 {
            let i = Int(v)
            return i == 0 ? "0" : String(i)
        }
        return "\(v)"
    }
}

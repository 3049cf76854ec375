#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always)
private func naturalLog(_ x: Double) -> Double { log(x) }

/// Scalar semantics of the WorldQuant element-wise operators, as BRAIN (and `alpha101v`) define them: unknown in,
/// unknown out. A comparison with a NaN or infinite side is NaN, not false; `WQIf` with a NaN condition is NaN;
/// `WQOr`/`WQAnd` are three-valued (Kleene); `WQMin`/`WQMax` skip a NaN side (numpy's fmin/fmax).
public enum WorldQuantElementWise {
    @inline(__always)
    public static func compare(_ op: WorldQuantOperator, _ a: Double, _ b: Double) -> Double {
        guard a.isFinite && b.isFinite else { return .nan }
        switch op {
        case .lt: return a < b ? 1 : 0
        case .le: return a <= b ? 1 : 0
        case .gt: return a > b ? 1 : 0
        case .ge: return a >= b ? 1 : 0
        default: return a == b ? 1 : 0
        }
    }

    /// Kleene logic on 1/0/unknown: true ∨ unknown = true, false ∨ unknown = unknown (and dually for ∧).
    @inline(__always)
    public static func or(_ a: Double, _ b: Double) -> Double {
        if a == 1 || b == 1 { return 1 }
        return a == 0 && b == 0 ? 0 : .nan
    }

    @inline(__always)
    public static func and(_ a: Double, _ b: Double) -> Double {
        if a == 0 || b == 0 { return 0 }
        return a == 1 && b == 1 ? 1 : .nan
    }

    /// `c ? a : b` with the condition 1 or 0; anything else (NaN) gives NaN.
    @inline(__always)
    public static func choose(_ c: Double, _ a: Double, _ b: Double) -> Double {
        c == 1 ? a : (c == 0 ? b : .nan)
    }

    /// ln x for x > 0, NaN otherwise (not −inf at 0).
    @inline(__always)
    public static func log(_ x: Double) -> Double { x > 0 ? naturalLog(x) : .nan }

    /// BRAIN's `power` (the paper's infix `^`): x ≥ 0 → x^y; x < 0 → |x|^y, negative for an odd integer y (so a
    /// non-integer y drops the sign); x = 0 → 0 whatever y; a non-finite result → NaN.
    @inline(__always)
    public static func power(_ x: Double, _ y: Double) -> Double {
        if x == 0 { return 0 }
        let result: Double
        if x >= 0 {
            result = pow(x, y)
        } else {
            let oddInteger = y.rounded(.down) == y && y.truncatingRemainder(dividingBy: 2) != 0
            result = pow(Swift.abs(x), y) * (oddInteger ? -1 : 1)
        }
        return result.isFinite ? result : .nan
    }

    /// sign(x)·|x|^y; a non-finite result → NaN.
    @inline(__always)
    public static func signedPower(_ x: Double, _ y: Double) -> Double {
        let sign: Double = x > 0 ? 1 : (x < 0 ? -1 : (x == 0 ? 0 : .nan))
        let result = sign * pow(Swift.abs(x), y)
        return result.isFinite ? result : .nan
    }

    @inline(__always)
    public static func fmin(_ a: Double, _ b: Double) -> Double { a.isNaN ? b : (b.isNaN ? a : Swift.min(a, b)) }

    @inline(__always)
    public static func fmax(_ a: Double, _ b: Double) -> Double { a.isNaN ? b : (b.isNaN ? a : Swift.max(a, b)) }

    /// The binary element-wise operators (not `WQIf`, not the windowed ones).
    @inline(__always)
    public static func binary(_ op: WorldQuantOperator, _ a: Double, _ b: Double) -> Double {
        switch op {
        case .lt, .le, .gt, .ge, .eq: return compare(op, a, b)
        case .or: return or(a, b)
        case .and: return and(a, b)
        case .power: return power(a, b)
        case .signedPower: return signedPower(a, b)
        case .min: return fmin(a, b)
        case .max: return fmax(a, b)
        default: return .nan
        }
    }
}

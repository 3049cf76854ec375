#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Scalar semantics of the element-wise, comparison and logic operators.
///
/// Booleans are 1/0; comparisons with NaN are false (`Ne` true); a value is true when it is non-zero, and NaN
/// counts as true (numpy's truthiness, which Qlib's `If` inherits). Division is unguarded.
public enum ElementWise {
    @inline(__always)
    public static func truthy(_ v: Double) -> Bool { v != 0 }

    @inline(__always)
    public static func unary(_ op: UnaryOperator, _ x: Double) -> Double {
        switch op {
        case .abs: return Swift.abs(x)
        case .sign: return x.isNaN ? .nan : (x > 0 ? 1 : (x < 0 ? -1 : 0))
        case .log: return log(x)
        case .not: return truthy(x) ? 0 : 1
        case .neg: return -x
        }
    }

    @inline(__always)
    public static func binary(_ op: BinaryOperator, _ a: Double, _ b: Double) -> Double {
        switch op {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .power: return pow(a, b)
        case .greater: return a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
        case .less: return a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
        case .gt: return a > b ? 1 : 0
        case .ge: return a >= b ? 1 : 0
        case .lt: return a < b ? 1 : 0
        case .le: return a <= b ? 1 : 0
        case .eq: return a == b ? 1 : 0
        case .ne: return a != b ? 1 : 0
        case .and: return truthy(a) && truthy(b) ? 1 : 0
        case .or: return truthy(a) || truthy(b) ? 1 : 0
        }
    }
}

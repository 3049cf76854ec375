/// How long a failed task waits before its next attempt: exponential in the attempt number (base · 2^(n−1), capped at
/// an hour), with "equal jitter" (a random half to all of it) so that tasks failing together do not retry together.
/// Local workers and the API's remote-worker path use the same rule.
public enum RetryBackoff {
    public static func seconds(afterAttempt attempt: Int, base: Double = 2,
                               jitter: Double = Double.random(in: 0.5...1)) -> Double {
        let exponential = base * Double(1 << min(20, max(0, attempt - 1)))
        return min(3600, exponential) * min(1, max(0.5, jitter))
    }
}

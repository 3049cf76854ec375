import Dispatch

/// Runs blocking work (a Python factor's validation: seconds, up to the runner's timeout) on a global queue instead of
/// the cooperative pool, whose few threads serve every request: a slow validation never stalls the server.
func offloaded<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
    }
}

import Dispatch

/// Runs blocking work (a child process, a synchronous worker loop) on a Dispatch thread, so that it never holds one
/// of the few cooperative threads the live server under test needs to answer requests.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}

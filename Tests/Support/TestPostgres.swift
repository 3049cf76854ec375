import FactorStore
import Foundation

/// The PostgreSQL server the tests may use: `FACTORLAB_TEST_POSTGRES_URL` (a URL of any database on it, e.g.
/// postgres://postgres@127.0.0.1:55432/postgres). CI starts one; without it the PostgreSQL half of the tests skips.
public enum TestPostgres {
    public static let serverURL: String? = {
        guard let url = ProcessInfo.processInfo.environment["FACTORLAB_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }()

    public static var available: Bool { serverURL != nil }

    public static let skipNote = "needs a PostgreSQL server: set FACTORLAB_TEST_POSTGRES_URL=postgres://user@host:port/db (.ci/run starts one); skipped"

    /// A new, empty database on the test server; `drop` removes it.
    public static func scratchDatabase(_ purpose: String = "test") throws -> (url: String, drop: @Sendable () -> Void) {
        guard let serverURL else { throw StoreError.database(skipNote) }
        let name = "factorlab_\(purpose)_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let url = try PostgresAdmin.createDatabase(serverURL: serverURL, name: name)
        return (url, { try? PostgresAdmin.dropDatabase(serverURL: serverURL, name: name) })
    }
}

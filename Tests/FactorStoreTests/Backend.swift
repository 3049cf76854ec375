import FactorStore
import FactorTestSupport
import Foundation
import Testing

/// The backends the store contract runs against: SQLite always, PostgreSQL when a test server is configured.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres
    var testDescription: String { rawValue }

    /// SQLite, and PostgreSQL when `FACTORLAB_TEST_POSTGRES_URL` names a server (see `PostgreSQLHalf` otherwise).
    static let available: [Backend] = TestPostgres.available ? [.sqlite, .postgres] : [.sqlite]

    /// A fresh, empty store, and the location a second handle (another process) would open.
    func make() throws -> (store: any PlatformStore, location: String, cleanup: @Sendable () -> Void) {
        switch self {
        case .sqlite:
            let dir = NSTemporaryDirectory() + "factorlab-store-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let path = dir + "/test.db"
            return (try SQLiteFactorStore(path: path), path, { try? FileManager.default.removeItem(atPath: dir) })
        case .postgres:
            let (url, drop) = try TestPostgres.scratchDatabase("contract")
            return (try PostgresFactorStore(url: url), url, drop)
        }
    }
}

/// Says, as a skipped test, that the PostgreSQL half of the contract did not run here and why.
@Suite("PostgreSQL half of the store contract")
struct PostgreSQLHalf {
    @Test(.disabled(if: !TestPostgres.available, Comment(rawValue: TestPostgres.skipNote)))
    func theServerAnswersAndAnswersClearlyWhenItCannot() async throws {
        try await blocking {
            let (url, drop) = try TestPostgres.scratchDatabase("probe")
            defer { drop() }
            _ = try PostgresFactorStore(url: url)
            // A port nothing listens on: a prompt error naming the address, not a minute of retries.
            let started = Date()
            #expect {
                _ = try PostgresFactorStore(url: "postgres://postgres@127.0.0.1:1/none")
            } throws: { error in
                "\(error)".contains("cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:1/none")
            }
            #expect(Date().timeIntervalSince(started) < 10)
            #expect(throws: StoreError.self) { try PostgresLocation(url: "postgres://u@h:5432/db?pool_size=0") }
            #expect(throws: StoreError.self) { try PostgresLocation(url: "postgres://u@h:5432/db?poolsize=4") }
            #expect(throws: StoreError.self) { try PostgresLocation(url: "postgres://u@h:5432") }
        }
    }
}

@Suite("PostgreSQL URLs")
struct PostgresLocationTests {
    @Test func passwordsAreDecodedOnceAndNeverPrinted() throws {
        let location = try PostgresLocation(url: "postgres://ops:p%25x%40y@db.example:6543/factorlab?pool_size=4")
        #expect(location.username == "ops" && location.password == "p%x@y" && location.host == "db.example" && location.port == 6543)
        #expect(location.database == "factorlab" && location.poolSize == 4)
        #expect(location.description == "postgres://ops:***@db.example:6543/factorlab")
        #expect(try PostgresLocation(url: location.url) == location)
        // Too malformed to parse (an unencoded '/' and '#' in the password): the error still hides it.
        #expect {
            _ = try PostgresLocation(url: "postgres://ops:se/cr#et@db.example:5432/factorlab")
        } throws: { error in
            let text = "\(error)"
            return !text.contains("se/cr#et") && text.contains("***")
        }
        #expect(StoreLocation.display("postgres://ops:hunter2@h:5432/db") == "postgres://ops:***@h:5432/db")
    }
}

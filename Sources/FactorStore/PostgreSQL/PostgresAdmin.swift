import Foundation
import Logging
import PostgresNIO

/// Server-level chores on PostgreSQL: scratch databases for tests and benchmarks, and one-off statements.
public enum PostgresAdmin {
    private static let bridge = BlockingBridge()
    private static let logger = Logger(label: "factorlab.postgres.admin")

    /// Runs statements (one per element) on the database `url` names, outside any transaction.
    public static func execute(url: String, _ statements: [String]) throws {
        let location = try PostgresLocation(url: url)
        try bridge.wait {
            let connection = try await connect(location)
            do {
                for sql in statements { try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
            } catch {
                try? await connection.close()
                throw StoreError.database(PostgresFactorStore.describe(error))
            }
            try? await connection.close()
        }
    }

    /// Creates database `name` on the server of `serverURL`; returns the URL of the new database.
    public static func createDatabase(serverURL: String, name: String) throws -> String {
        try checkName(name)
        try execute(url: serverURL, ["CREATE DATABASE \"\(name)\""])
        var location = try PostgresLocation(url: serverURL)
        location.database = name
        return location.url
    }

    /// Drops database `name` (closing its other sessions first).
    public static func dropDatabase(serverURL: String, name: String) throws {
        try checkName(name)
        try execute(url: serverURL, ["DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)"])
    }

    private static func checkName(_ name: String) throws {
        guard !name.isEmpty, name.count <= 63, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw StoreError.database("'\(name)' is not a database name this tool creates (letters, digits and _, at most 63)")
        }
    }

    private static func connect(_ location: PostgresLocation) async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(
                configuration: .init(host: location.host, port: location.port, username: location.username,
                                     password: location.password, database: location.database,
                                     tls: try PostgresFactorStore.tls(location.tls).connection),
                id: 0, logger: logger)
        } catch {
            throw StoreError.database("cannot connect to PostgreSQL at \(location.description): \(PostgresFactorStore.describe(error))")
        }
    }
}

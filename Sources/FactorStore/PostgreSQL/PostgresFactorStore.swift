import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// The PostgreSQL implementation of every store protocol (postgres-nio's `PostgresClient`), for a platform whose
/// API, workers and Airflow run on several hosts. Each call is one transaction on a pooled connection; leases and
/// backoffs use the database's clock.
public final class PostgresFactorStore: @unchecked Sendable {
    // Immutable after init; PostgresClient is Sendable and the bridge is thread-safe.
    public let location: PostgresLocation
    public var locationDescription: String { location.description }
    let client: PostgresClient
    let logger: Logger
    private let bridge = BlockingBridge()
    private let runTask: Task<Void, Never>

    /// Connects (failing at once, with the address, when no server answers), migrates, and starts the pool.
    public init(url: String, logger: Logger = Logger(label: "factorlab.postgres")) throws {
        let location = try PostgresLocation(url: url)
        self.location = location
        self.logger = logger
        let tls = try Self.tls(location.tls)
        let bridge = self.bridge
        // PostgresClient retries for about a minute when nothing answers; one direct connection fails in
        // milliseconds, and it runs the migrations before any pooled connection exists.
        try bridge.wait {
            let connection: PostgresConnection
            do {
                connection = try await PostgresConnection.connect(
                    configuration: .init(host: location.host, port: location.port, username: location.username,
                                         password: location.password, database: location.database, tls: tls.connection),
                    id: 0, logger: logger)
            } catch {
                throw StoreError.database("cannot connect to PostgreSQL at \(location.description): \(Self.describe(error))")
            }
            do {
                try await Self.migrate(PostgresSession(connection: connection, logger: logger))
            } catch {
                try? await connection.close()
                throw Self.storeError(error)
            }
            try? await connection.close()
        }
        var configuration = PostgresClient.Configuration(host: location.host, port: location.port, username: location.username,
                                                         password: location.password, database: location.database, tls: tls.client)
        configuration.options.maximumConnections = location.poolSize
        configuration.options.connectTimeout = .seconds(10)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runTask = bridge.start { await client.run() }
    }

    deinit { runTask.cancel() }

    static func tls(_ mode: PostgresLocation.TLSMode) throws -> (connection: PostgresConnection.Configuration.TLS,
                                                                         client: PostgresClient.Configuration.TLS) {
        switch mode {
        case .disable: return (.disable, .disable)
        case .prefer, .require:
            let configuration = TLSConfiguration.makeClientConfiguration()
            let context: NIOSSLContext
            do { context = try NIOSSLContext(configuration: configuration) } catch {
                throw StoreError.database("cannot set up TLS for PostgreSQL: \(error)")
            }
            return mode == .prefer ? (.prefer(context), .prefer(configuration)) : (.require(context), .require(configuration))
        }
    }

    /// Applies the missing migrations under an advisory lock (concurrent openers apply each once); refuses a
    /// database migrated by a newer FactorLab.
    private static func migrate(_ s: PostgresSession) async throws {
        try await s.execute("BEGIN")
        do {
            try await s.execute("SELECT pg_advisory_xact_lock($1)", [PostgresSchema.migrationLock])
            try await s.execute("CREATE TABLE IF NOT EXISTS factorlab_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            let applied = Set(try await s.rows("SELECT id FROM factorlab_migrations").map { try $0.get("id", String.self) })
            let unknown = applied.subtracting(PostgresSchema.migrations.map(\.id) + PostgresSchema.codeMigrations.map(\.id))
            if !unknown.isEmpty { throw StoreError.schemaTooNew(unknown: unknown.sorted()) }
            for (id, sql) in PostgresSchema.migrations where !applied.contains(id) {
                // A prepared statement holds one command; the scripts have no ';' inside a literal.
                for statement in sql.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                    try await s.execute(statement)
                }
                try await s.execute("INSERT INTO factorlab_migrations (id, applied_at) VALUES ($1, $2)", [id, Clock.now()])
            }
            for (id, migrate) in PostgresSchema.codeMigrations where !applied.contains(id) {
                try await migrate(s)
                try await s.execute("INSERT INTO factorlab_migrations (id, applied_at) VALUES ($1, $2)", [id, Clock.now()])
            }
            try await s.execute("COMMIT")
        } catch {
            try? await s.execute("ROLLBACK")
            throw error
        }
    }

    // MARK: Transactions

    /// Runs `body` in one transaction (READ COMMITTED; the queue's row locks make each state change atomic).
    func write<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) async throws -> T) throws -> T {
        let client = self.client, logger = self.logger
        do {
            return try bridge.wait {
                try await client.withConnection { connection in
                    let session = PostgresSession(connection: connection, logger: logger)
                    try await session.execute("BEGIN")
                    do {
                        let value = try await body(session)
                        try await session.execute("COMMIT")
                        return value
                    } catch {
                        try? await session.execute("ROLLBACK")
                        throw error
                    }
                }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) async throws -> T) throws -> T {
        let client = self.client, logger = self.logger
        do {
            return try bridge.wait {
                try await client.withConnection { connection in try await body(PostgresSession(connection: connection, logger: logger)) }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    static func storeError(_ error: any Error) -> StoreError {
        (error as? StoreError) ?? .database(describe(error))
    }

    /// What went wrong, in PostgreSQL's words (PSQLError's own description hides the server's message).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo {
            var text = info[.message] ?? "server error"
            if let detail = info[.detail] { text += " (\(detail))" }
            if let state = info[.sqlState] { text += " [SQLSTATE \(state)]" }
            return text
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }

    /// The database's clock, in seconds since 1970: leases and backoffs never use a worker's clock.
    /// statement_timestamp(): one reading per statement (so a lease's WHERE can use an index), taken when it starts.
    static let databaseNow = "EXTRACT(EPOCH FROM statement_timestamp())::float8"

    func appendAudit(_ s: PostgresSession, actor: String, action: String, entity: String, before: String?, after: String?) async throws {
        try await s.execute("INSERT INTO audit_log (at, actor, action, entity, before, after) VALUES ($1, $2, $3, $4, $5, $6)",
                            [Clock.now(), actor, action, entity, before, after])
    }
}

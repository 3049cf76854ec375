import Foundation

/// A PostgreSQL store's address, parsed from `postgres://user:password@host:port/database?pool_size=8&sslmode=disable`.
public struct PostgresLocation: Sendable, Equatable {
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// Most connections one process opens (PostgresClient's pool).
    public var poolSize: Int
    public var tls: TLSMode

    /// Whether `text` names a PostgreSQL database rather than an SQLite file.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(url text: String) throws {
        guard Self.isPostgres(text), let url = URLComponents(string: text) else {
            throw StoreError.database("not a PostgreSQL URL: \(Self.redacted(text)); expected postgres://user:password@host:port/database")
        }
        guard let host = url.host, !host.isEmpty else {
            throw StoreError.database("the PostgreSQL URL \(Self.redacted(text)) has no host")
        }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty else {
            throw StoreError.database("the PostgreSQL URL \(Self.redacted(text)) names no database (…/DATABASE)")
        }
        self.host = host
        port = url.port ?? 5432
        // URLComponents decodes user, password and path already.
        username = url.user ?? "postgres"
        password = url.password
        self.database = database
        poolSize = 8
        tls = .disable
        for item in url.queryItems ?? [] {
            switch item.name {
            case "pool_size":
                guard let n = item.value.flatMap(Int.init), n >= 1, n <= 1000 else {
                    throw StoreError.database("pool_size in the PostgreSQL URL must be a whole number from 1 to 1000, got \(item.value ?? "nothing")")
                }
                poolSize = n
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw StoreError.database("sslmode in the PostgreSQL URL must be disable, prefer or require, got \(item.value ?? "nothing")")
                }
                tls = mode
            default:
                throw StoreError.database("unknown parameter '\(item.name)' in the PostgreSQL URL; known: pool_size, sslmode")
            }
        }
    }

    /// The URL itself (with the password, percent-encoded), as it would be given.
    public var url: String {
        var c = URLComponents()
        c.scheme = "postgres"
        c.user = username
        c.password = password
        c.host = host
        c.port = port
        c.path = "/" + database
        var items: [URLQueryItem] = []
        if poolSize != 8 { items.append(URLQueryItem(name: "pool_size", value: String(poolSize))) }
        if tls != .disable { items.append(URLQueryItem(name: "sslmode", value: tls.rawValue)) }
        if !items.isEmpty { c.queryItems = items }
        return c.string ?? description
    }

    /// The URL with its password hidden, for messages and logs.
    public var description: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
    }

    static func redacted(_ text: String) -> String {
        // By hand, so that a URL too malformed to parse (an unencoded '@' or '/' in the password) still hides it.
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].range(of: "@", options: .backwards),
              let colon = text[scheme.upperBound..<at.lowerBound].firstIndex(of: ":") else { return text }
        return String(text[..<text.index(after: colon)]) + "***" + String(text[at.lowerBound...])
    }
}

/// What an API token may do.
public enum Role: String, Codable, Sendable, CaseIterable {
    /// Registers and edits their own factors, submits jobs, reads everything.
    case researcher
    /// Also approves factors.
    case reviewer
    /// Everything, including token management.
    case admin
    /// Only leases and completes tasks.
    case worker
}

/// An API token as stored: the secret itself is never stored, only its SHA-256.
public struct TokenRecord: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var role: Role
    public var createdAt: String
    public var revokedAt: String?
    /// After this instant (same format as `createdAt`) the token no longer authenticates; nil: never.
    public var expiresAt: String?

    public init(id: String, name: String, role: Role, createdAt: String, revokedAt: String? = nil, expiresAt: String? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.expiresAt = expiresAt
    }

    /// Whether the token has expired at `now` (`Clock.now()` form: ISO 8601 UTC, which orders as text).
    public func isExpired(at now: String) -> Bool { expiresAt.map { $0 <= now } ?? false }
}

/// A person the CLI may act as on a shared database, and the role they act with (`factorlab set-user`).
public struct UserRecord: Codable, Sendable, Equatable {
    public var name: String
    public var role: Role
    public var updatedAt: String
    public var updatedBy: String

    public init(name: String, role: Role, updatedAt: String, updatedBy: String) {
        self.name = name
        self.role = role
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }
}

/// Persistence of API tokens.
public protocol TokenStore: Sendable {
    /// Stores a token under the hash of its secret; fails with `duplicateToken` when the name is taken.
    func insertToken(_ token: TokenRecord, secretHash: String, actor: String) throws
    /// The live (not revoked) token whose secret hashes to `secretHash`.
    func token(secretHash: String) throws -> TokenRecord?
    func tokens() throws -> [TokenRecord]
    func revokeToken(name: String, actor: String) throws

    /// Grants `name` a role for the CLI (creating or changing the user); audited with before and after.
    func setUser(name: String, role: Role, actor: String) throws -> UserRecord
    /// Removes a user; false when there was none. Audited.
    func removeUser(name: String, actor: String) throws -> Bool
    func users() throws -> [UserRecord]
    func user(name: String) throws -> UserRecord?
}

extension UserRecord {
    public static let nameRule = "a user name has 1–64 letters, digits, '_', '.', '@' or '-'"

    /// Names fit an audit entry and a URL path segment.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.@-".contains($0)) }
    }
}

/// The audit entry of a created token.
struct TokenGrant: Encodable {
    var role: Role
    var expiresAt: String?
}

/// The audit entry of a refused action (action `refused`).
struct Refusal: Encodable {
    var action: String
    var reason: String
}

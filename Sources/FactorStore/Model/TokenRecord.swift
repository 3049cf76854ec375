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

    public init(id: String, name: String, role: Role, createdAt: String, revokedAt: String? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.revokedAt = revokedAt
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
}
